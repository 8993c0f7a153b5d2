// What a push sender delivers, whatever the provider (FCM, APNs, Web Push), and the two small
// rules every sender shares: how a device token may appear in an error, and how Retry-After reads.

export interface PushMessage {
  /** The delivery's id: stable across retries, so providers can collapse duplicates (apns-id must be a UUID: derive one deterministically from this id if it is not one). */
  readonly id: string;
  readonly title: string;
  readonly body: string;
  /** Flat string map (FCM data requires string values). */
  readonly data: Record<string, string>;
}

const shownTokenChars = 8;

/** A device token (or subscription endpoint) as it may appear in an error: enough to match it in a log, not enough to push to it. */
export function truncateToken(token: string): string {
  return token.length <= shownTokenChars ? '…' : `${token.slice(0, shownTokenChars)}…`;
}

/** Provider text (an error body) with the token cut out: providers sometimes echo what they refused. */
export function redactToken(text: string, token: string, maxChars = 300): string {
  const redacted = token === '' ? text : text.replaceAll(token, truncateToken(token));
  return redacted.length <= maxChars ? redacted : `${redacted.slice(0, maxChars)}…`;
}

/** Retry-After as milliseconds from now: RFC 9110 allows delay-seconds or an HTTP-date. */
export function parseRetryAfterMs(header: string | null | undefined, now: Date): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

/** Why a fetch() rejected, in words: a timeout, or the network error undici wraps in `cause`. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${timeoutMs} ms`;
  if (error instanceof Error && error.cause instanceof Error) {
    const code = (error.cause as NodeJS.ErrnoException).code;
    return code === undefined ? error.cause.message : `${code}: ${error.cause.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}
