// POST /auth/login, the first-party login of the compatibility contract: a username and password
// for an access token (15 minutes) every service accepts. A function of its own because it comes
// before any client (it needs no token and gives one) and must never be retried (each try counts
// against the account's lockout); an app signing users in with OAuth uses the authorization code
// flow and oidcRefreshToken instead.
import { PaymeshError } from './paymesh-error.ts';
import type { Fetch } from './paymesh-fetch.ts';

export interface LogInOptions {
  readonly baseUrl: string;
  readonly username: string;
  readonly password: string;
  readonly fetch?: Fetch;
  readonly signal?: AbortSignal;
}

/** The access token; a refusal throws (AuthenticationError for wrong credentials, RateLimitError when locked out). Never retried: each try counts against the account's lockout. */
export async function logIn(options: LogInOptions): Promise<string> {
  const fetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const response = await fetch(new Request(`${options.baseUrl.replace(/\/+$/, '')}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username: options.username, password: options.password }),
    signal: options.signal,
  }));
  const body = (await response.json().catch(() => undefined)) as { token?: unknown } | undefined;
  if (!response.ok) throw PaymeshError.from(response, body);
  if (typeof body?.token !== 'string') throw PaymeshError.from(new Response(null, { status: 502, headers: response.headers }), { error: { type: 'api_error', code: 'unexpected_response', message: 'POST /auth/login answered without a token' } });
  return body.token;
}
