// One attempt to POST a signed event to a customer's endpoint, turned into a DeliveryOutcome. The
// target is checked at send time (an endpoint's DNS can change after it was registered) and the
// connection goes to the address that was checked.
import type { LookupAddress, LookupOptions } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { DeliveryOutcome } from '../delivery/delivery-outcome.ts';
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

const maxSnippetBytes = 1024;
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
    const response = await post(request, target, deadline.signal);
    return { outcome: outcomeOf(response), responseSnippet: response.snippet, durationMs: elapsedMs() };
  } catch (error) {
    return { outcome: outcomeOfError(error, deadline.signal.aborted, request.timeoutMs), responseSnippet: undefined, durationMs: elapsedMs() };
  } finally {
    clearTimeout(timer);
  }
}

interface Response {
  readonly statusCode: number;
  readonly retryAfter: string | undefined;
  readonly snippet: string;
}

function post(request: WebhookRequest, target: { address: string; family: 4 | 6 }, signal: AbortSignal): Promise<Response> {
  const url = new URL(request.url);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    // The URL keeps the original hostname for the Host header and for TLS (SNI and the
    // certificate check); only the address lookup is replaced. A fresh agent per attempt so no
    // pooled socket to another address is reused. http never follows redirects by itself.
    const outgoing = client.request(url, {
      method: 'POST',
      agent: false,
      lookup: pinnedLookup(target),
      signal,
      headers: {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(request.body),
        'user-agent': userAgent,
        'Paymesh-Signature': request.signature,
        'Paymesh-Event-Id': request.eventId,
      },
    });
    // Until a response arrives, an error (refused, reset, TLS, the deadline) is the attempt's
    // result; once it has arrived the promise is settled and later errors cannot change it.
    outgoing.on('error', reject);
    outgoing.on('response', (incoming) => {
      const statusCode = incoming.statusCode;
      if (statusCode === undefined) return reject(new Error('a response without a status code'));
      const retryAfter = incoming.headers['retry-after'];
      const decoder = new StringDecoder('utf8'); // holds back a character cut at the limit
      let snippet = '';
      let bytesRead = 0;
      const finish = () => resolve({ statusCode, retryAfter, snippet });
      incoming.on('data', (chunk: Buffer) => {
        const wanted = chunk.subarray(0, maxSnippetBytes - bytesRead);
        bytesRead += wanted.length;
        snippet += decoder.write(wanted);
        if (bytesRead >= maxSnippetBytes) {
          finish();
          incoming.destroy(); // the rest is not read: a receiver cannot make us download a lot
        }
      });
      incoming.on('end', finish);
      // The status is what counts: a body cut short by the deadline or the receiver leaves the
      // outcome as it is, with what was read so far.
      incoming.on('error', finish);
      incoming.on('close', finish);
    });
    outgoing.end(request.body);
  });
}

/** Node's connect-time lookup, answering the checked address whatever it is asked. */
function pinnedLookup(target: { address: string; family: 4 | 6 }): LookupFunction {
  return (_hostname: string, options: LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    // net.connect asks for every address (all: true) when it may race IPv4 and IPv6.
    if (options.all === true) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}

function outcomeOf(response: Response): DeliveryOutcome {
  const { statusCode } = response;
  if (statusCode >= 200 && statusCode <= 299) return { kind: 'delivered', statusCode };
  // Like Stripe, every other status is retried: a misconfigured endpoint (404, 401, a redirect)
  // is usually fixed by its owner within the retry window.
  const error = statusCode >= 300 && statusCode <= 399 ? `HTTP ${statusCode}: redirects are not followed` : `HTTP ${statusCode}`;
  const retryAfterMs = statusCode === 429 || statusCode === 503 ? parseRetryAfterMs(response.retryAfter) : undefined;
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

/** The promise, or a rejection as soon as the signal aborts (a lookup cannot be cancelled, only left). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
