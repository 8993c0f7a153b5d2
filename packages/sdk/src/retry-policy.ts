// How long to wait before the next attempt, and how many attempts at most: exponential backoff
// with full jitter (a random wait between 0 and base × 2^retry, capped), so that many clients
// refused at once do not come back at once; a server's Retry-After (seconds or an HTTP date)
// wins over the computed wait, within the cap.

export interface RetryOptions {
  /** Retries after the first attempt (default 2: three attempts in all); 0 turns retries off. */
  readonly maxRetries?: number;
  /** The first retry waits up to this long, the next up to twice as long … (default 500 ms). */
  readonly baseDelayMs?: number;
  /** No wait is longer; a Retry-After asking for more is not waited out: the answer is returned (default 20 s). */
  readonly maxDelayMs?: number;
  /** Waits `ms` (tests give one that takes no real time); rejects when `signal` aborts. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** A number in [0, 1) for the jitter (default Math.random). */
  readonly random?: () => number;
  /** The time now, for a Retry-After given as an HTTP date (default Date.now). */
  readonly now?: () => number;
}

export interface RetryPolicy {
  readonly maxRetries: number;
  readonly maxDelayMs: number;
  /** The wait before retry number `retry` (0 for the first), given the answer's Retry-After header; undefined: do not retry. */
  delayMs(retry: number, retryAfter?: string | null): number | undefined;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export function retryPolicy(options: number | RetryOptions = {}): RetryPolicy {
  const given: RetryOptions = typeof options === 'number' ? { maxRetries: options } : options;
  const maxRetries = given.maxRetries ?? 2;
  const baseDelayMs = given.baseDelayMs ?? 500;
  const maxDelayMs = given.maxDelayMs ?? 20_000;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new TypeError(`retries: maxRetries must be a whole number ≥ 0, got ${maxRetries}`);
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0)) throw new TypeError('retries: delays must be numbers ≥ 0');
  const random = given.random ?? Math.random;
  const now = given.now ?? Date.now;
  return {
    maxRetries,
    maxDelayMs,
    sleep: given.sleep ?? sleep,
    delayMs(retry, retryAfter) {
      if (retry >= maxRetries) return undefined;
      const asked = retryAfterMs(retryAfter ?? null, now());
      if (asked !== undefined) return asked <= maxDelayMs ? asked : undefined;
      return Math.floor(random() * Math.min(maxDelayMs, baseDelayMs * 2 ** retry));
    },
  };
}

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP date names a day of the week and a month; Date.parse alone would accept "1" too.
  if (!/^[A-Za-z]{3},/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
