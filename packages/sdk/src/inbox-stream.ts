// GET /notifications/stream, the caller's inbox live, as an async iterator. The stream sends each
// new notification (its SSE id the notification's id) followed by the unread count; after a drop
// the iterator reconnects with Last-Event-ID, and the server first sends what was missed. It ends
// when the signal aborts, or after the server's `end` event for a revoked token (a reconnect
// would be refused); after `end` for an expired token it reconnects, with a fresh token when the
// SDK has a provider (a static token is then refused: AuthenticationError).
import { ConnectionError, PaymeshError } from './paymesh-error.ts';
import type { Fetch } from './paymesh-fetch.ts';
import type { ResponseData } from './response-types.ts';
import { retryPolicy, type RetryOptions } from './retry-policy.ts';
import { parseServerSentEvents } from './server-sent-events.ts';

/** A notification as GET /notifications shows it. */
export type Notification = ResponseData<'/notifications', 'get'> extends readonly (infer Item)[] ? Item : never;

export type InboxEvent =
  | { readonly type: 'notification'; readonly id: string; readonly notification: Notification }
  | { readonly type: 'unread_count'; readonly unread: number }
  | { readonly type: 'end'; readonly reason: 'token_expired' | 'token_revoked' | (string & {}) };

export interface InboxStreamOptions {
  /** Ends the iteration (and the connection). */
  readonly signal?: AbortSignal;
  /** Resume after this notification id (what a previous stream last gave). */
  readonly lastEventId?: string;
  /** Reconnects after a drop: `maxRetries` failures in a row (default 10) end it with a ConnectionError. */
  readonly reconnect?: RetryOptions;
}

export async function* streamInbox(baseUrl: string, send: Fetch, options: InboxStreamOptions = {}): AsyncGenerator<InboxEvent> {
  const { signal } = options;
  // A function, not `signal.aborted` inline: the signal changes while this generator awaits.
  const aborted = () => signal?.aborted === true;
  const reconnect = retryPolicy({ maxRetries: 10, baseDelayMs: 1000, maxDelayMs: 30_000, ...options.reconnect });
  let lastEventId = options.lastEventId;
  let serverRetryMs = 0;
  let failures = 0;
  for (;;) {
    if (aborted()) return;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    let dropped: unknown;
    let tokenExpired = false;
    try {
      const response = await send(new Request(`${baseUrl}/notifications/stream`, { headers, signal }));
      if (!response.ok || response.body === null) throw PaymeshError.from(response, await response.json().catch(() => undefined));
      for await (const message of parseServerSentEvents(response.body, (ms) => (serverRetryMs = ms))) {
        failures = 0;
        const event = inboxEvent(message.event, message.data, message.id);
        if (event === undefined) continue; // an event type this SDK does not know yet
        if (event.type === 'notification') lastEventId = event.id;
        yield event;
        if (event.type === 'end') {
          if (event.reason === 'token_revoked') return;
          tokenExpired = true;
          break;
        }
      }
    } catch (error) {
      if (aborted()) return;
      // Refusals (401, 403, 400) are not drops: reconnecting would be refused the same way.
      if (error instanceof PaymeshError && !(error instanceof ConnectionError)) throw error;
      dropped = error;
    }
    if (tokenExpired) continue; // at once, with the token the provider gives now
    // A drop, or the server closed the stream (it is stopping: another replica will answer).
    failures++;
    const backoff = reconnect.delayMs(failures - 1);
    if (backoff === undefined) throw new ConnectionError(`the inbox stream failed ${failures} times in a row`, dropped);
    try {
      await reconnect.sleep(Math.max(serverRetryMs, backoff), signal);
    } catch (error) {
      if (aborted()) return;
      throw error;
    }
  }
}

function inboxEvent(type: string, data: string, id: string | undefined): InboxEvent | undefined {
  const parsed = JSON.parse(data) as Record<string, unknown>;
  if (type === 'notification' && id !== undefined) return { type, id, notification: parsed as Notification };
  if (type === 'unread_count') return { type, unread: Number(parsed.unread) };
  if (type === 'end') return { type, reason: String(parsed.reason) };
  return undefined;
}
