// The fetch every SDK request goes through: it adds the bearer token, gives each POST an
// Idempotency-Key (one per request, the same on each of its retries), and retries what is safe to
// retry:
// - an answer that says the request was not acted on: 429 (rate limited), 409
//   idempotency_key_in_use (the same key's first request is still running), 401 once when a token
//   provider can get a fresh token;
// - a network failure or a 5xx, only when sending the request again cannot act twice: a GET, PUT,
//   DELETE…, or a POST whose operation honours its Idempotency-Key (the server then replays the
//   first answer), or a connection that was refused before anything was sent;
// waiting as the server's Retry-After says, or by exponential backoff with full jitter, up to the
// retry policy's bounds (retry-policy.ts).
import { idempotentPosts } from './generated/idempotent-posts.ts';
import { ConnectionError } from './paymesh-error.ts';
import type { RetryPolicy } from './retry-policy.ts';
import type { TokenProvider } from './token-provider.ts';

export type Fetch = (request: Request) => Promise<Response>;

/** The document path a request was made for (`/payments/{id}/capture`), recorded by the client's middleware. */
export const operationPaths = new WeakMap<Request, string>();

const replayableMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Errors whose connection never opened: nothing reached the server, any request may be sent again. */
const notConnectedCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export interface PaymeshFetchOptions {
  readonly fetch: Fetch;
  readonly token: TokenProvider | undefined;
  readonly retry: RetryPolicy;
  /** Makes an Idempotency-Key (default crypto.randomUUID). */
  readonly newIdempotencyKey?: () => string;
}

export function paymeshFetch(options: PaymeshFetchOptions): Fetch {
  const newKey = options.newIdempotencyKey ?? (() => crypto.randomUUID());
  const { retry } = options;

  return async function send(request: Request): Promise<Response> {
    const headers = new Headers(request.headers);
    const method = request.method.toUpperCase();
    if (method === 'POST' && !headers.has('idempotency-key')) headers.set('idempotency-key', newKey());
    const path = operationPaths.get(request);
    const replayable = replayableMethods.has(method) || (method === 'POST' && path !== undefined && idempotentPosts.has(path));
    // Read once, so that every attempt sends the same bytes.
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const callerAuthorizes = headers.has('authorization');
    let freshTokenTried = false;

    for (let attempt = 0; ; attempt++) {
      let token: string | undefined;
      if (!callerAuthorizes && options.token !== undefined) {
        token = await options.token.getToken(request.signal);
        headers.set('authorization', `Bearer ${token}`);
      }
      const sent = new Request(request.url, { method, headers, body, signal: request.signal, redirect: request.redirect, credentials: request.credentials });
      let response: Response;
      try {
        response = await options.fetch(sent);
      } catch (error) {
        if (request.signal.aborted) throw error;
        const delay = replayable || neverConnected(error) ? retry.delayMs(attempt) : undefined;
        if (delay === undefined) throw new ConnectionError(`${method} ${new URL(request.url).pathname}: ${errorMessage(error)}`, error);
        await retry.sleep(delay, request.signal);
        continue;
      }

      // A refused token that a provider can renew: once, at once (the request was not acted on).
      if (response.status === 401 && token !== undefined && options.token?.invalidate !== undefined && !freshTokenTried) {
        freshTokenTried = true;
        options.token.invalidate(token);
        await discard(response);
        attempt--;
        continue;
      }
      if (!(await mayRetry(response, replayable, headers))) return response;
      const delay = retry.delayMs(attempt, response.headers.get('retry-after'));
      if (delay === undefined) return response;
      await discard(response);
      await retry.sleep(delay, request.signal);
    }
  };
}

async function mayRetry(response: Response, replayable: boolean, headers: Headers): Promise<boolean> {
  if (response.status === 429) return true;
  if (response.status === 409 && headers.has('idempotency-key')) return (await errorCode(response)) === 'idempotency_key_in_use';
  if (response.status >= 500) return replayable;
  return false;
}

/** The error object's code, when the answer is Paymesh's JSON error (a proxy's page is not the idempotency conflict). */
async function errorCode(response: Response): Promise<string | undefined> {
  if (!(response.headers.get('content-type') ?? '').includes('json')) return undefined;
  const body = (await response.clone().json()) as { error?: { code?: unknown } } | null;
  return typeof body?.error?.code === 'string' ? body.error.code : undefined;
}

function neverConnected(error: unknown): boolean {
  const cause = (error as { cause?: unknown }).cause;
  const codes: unknown[] = [];
  if (cause instanceof AggregateError) for (const inner of cause.errors) codes.push((inner as { code?: unknown }).code);
  else codes.push((cause as { code?: unknown } | undefined)?.code);
  return codes.length > 0 && codes.every((code) => typeof code === 'string' && notConnectedCodes.has(code));
}

function errorMessage(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return typeof cause?.message === 'string' ? `${message} (${cause.message})` : message;
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
