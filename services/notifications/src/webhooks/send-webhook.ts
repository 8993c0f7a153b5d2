// One attempt to POST a signed event to a customer's endpoint, turned into a DeliveryOutcome. The
// target is checked at send time (an endpoint's DNS can change after it was registered) and the
// connection goes to the address that was checked.
import type { DeliveryOutcome } from '../delivery/delivery-outcome.ts';
import { pinnedPost, untilAborted, type PinnedResponse } from '../delivery/pinned-post.ts';
import { checkWebhookTarget, TargetRefusedError, type Lookup } from './target-guard.ts';

export interface WebhookRequest {
  readonly url: string;
  /** The exact bytes that were signed. */
  readonly body: string;
  /** Paymesh-Signature header value. */
  readonly signature: string;
  /** Sent as Paymesh-Event-Id too. */
  readonly eventId: string;
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
  readonly lookup?: Lookup;
}

export interface WebhookResult {
  readonly outcome: DeliveryOutcome;
  /** ≤ 1 KiB of the response body, for the delivery log; undefined when no response came. */
  readonly responseSnippet: string | undefined;
  readonly durationMs: number;
}

const maxRetryAfterMs = 60 * 60 * 1000;
const userAgent = 'Paymesh-Webhooks/1.0';

export async function sendWebhook(request: WebhookRequest): Promise<WebhookResult> {
  if (!(request.timeoutMs > 0)) throw new TypeError(`timeoutMs must be positive, got ${request.timeoutMs}`);
  const startedMs = performance.now();
  const elapsedMs = () => Math.round(performance.now() - startedMs);
  // One deadline for the whole attempt: DNS, connect, TLS, the response and its body.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), request.timeoutMs);
  try {
    const target = await untilAborted(checkWebhookTarget(request.url, { allowPrivate: request.allowPrivate, lookup: request.lookup }), deadline.signal);
    const response = await pinnedPost(request.url, target, {
      headers: { 'content-type': 'application/json', 'user-agent': userAgent, 'Paymesh-Signature': request.signature, 'Paymesh-Event-Id': request.eventId },
      body: request.body,
      signal: deadline.signal,
    });
    return { outcome: outcomeOf(response), responseSnippet: response.snippet, durationMs: elapsedMs() };
  } catch (error) {
    return { outcome: outcomeOfError(error, deadline.signal.aborted, request.timeoutMs), responseSnippet: undefined, durationMs: elapsedMs() };
  } finally {
    clearTimeout(timer);
  }
}

function outcomeOf(response: PinnedResponse): DeliveryOutcome {
  const { statusCode } = response;
  if (statusCode >= 200 && statusCode <= 299) return { kind: 'delivered', statusCode };
  // Like Stripe, every other status is retried: a misconfigured endpoint (404, 401, a redirect)
  // is usually fixed by its owner within the retry window.
  const error = statusCode >= 300 && statusCode <= 399 ? `HTTP ${statusCode}: redirects are not followed` : `HTTP ${statusCode}`;
  const retryAfterMs = statusCode === 429 || statusCode === 503 ? parseRetryAfterMs(response.headers['retry-after']) : undefined;
  return retryAfterMs === undefined ? { kind: 'retry', error, statusCode } : { kind: 'retry', error, statusCode, retryAfterMs };
}

function outcomeOfError(error: unknown, timedOut: boolean, timeoutMs: number): DeliveryOutcome {
  // A name that stopped resolving is often a passing DNS outage at the receiver: retried. An address
  // that is (or became) private never will be right.
  if (error instanceof TargetRefusedError && error.reason === 'unresolvable') return { kind: 'retry', error: `target refused (${error.reason}): ${error.message}` };
  if (error instanceof TargetRefusedError) return { kind: 'failed', error: `target refused (${error.reason}): ${error.message}` };
  if (timedOut) return { kind: 'retry', error: `no response within ${timeoutMs} ms` };
  if (!(error instanceof Error)) throw error;
  const code = (error as NodeJS.ErrnoException).code;
  return { kind: 'retry', error: code === undefined ? error.message : `${code}: ${error.message}` };
}

/** Retry-After as delta-seconds or an HTTP date, capped at an hour; undefined when absent, unreadable or past. */
function parseRetryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  let delayMs: number;
  if (/^\d+$/.test(value)) delayMs = Number(value) * 1000;
  else {
    const dateMs = Date.parse(value);
    if (Number.isNaN(dateMs)) return undefined;
    delayMs = dateMs - Date.now();
  }
  if (delayMs <= 0) return undefined;
  return Math.min(delayMs, maxRetryAfterMs);
}
