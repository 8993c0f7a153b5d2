// The issuer's token endpoint (RFC 6749 §3.2), found through its discovery document
// (`<issuer>/.well-known/openid-configuration`), and one grant sent to it. The client
// authenticates with HTTP Basic (client_secret_basic), in the form (client_secret_post), or not at
// all (a public client: its client_id in the form).
import { PaymeshError } from './paymesh-error.ts';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in?: number;
  readonly refresh_token?: string;
  readonly scope?: string;
}

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret?: string | undefined;
  readonly authMethod?: ClientAuthMethod | undefined;
}

type Fetch = (request: Request) => Promise<Response>;

/** The token endpoint the issuer's discovery document names. */
export async function discoverTokenEndpoint(issuer: string, fetch: Fetch, signal?: AbortSignal): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(new Request(url, { headers: { accept: 'application/json' }, signal }));
  if (!response.ok) throw new PaymeshError({ status: response.status, type: 'api_error', code: 'discovery_failed', message: `${url} answered ${response.status}`, requestId: response.headers.get('x-request-id') ?? undefined });
  const document = (await response.json()) as { token_endpoint?: unknown };
  if (typeof document.token_endpoint !== 'string') throw new PaymeshError({ status: response.status, type: 'api_error', code: 'discovery_failed', message: `${url} names no token_endpoint` });
  return document.token_endpoint;
}

/** Sends one grant; the issuer's refusal (`{"error": "invalid_grant", …}`) becomes an AuthenticationError. */
export async function requestToken(endpoint: string, client: ClientCredentials, form: Record<string, string | undefined>, fetch: Fetch, signal?: AbortSignal): Promise<TokenResponse> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) if (value !== undefined) body.set(name, value);
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' });
  const method = client.authMethod ?? (client.clientSecret === undefined ? 'none' : 'client_secret_basic');
  if (method === 'client_secret_basic') {
    headers.set('authorization', `Basic ${base64(`${formEncode(client.clientId)}:${formEncode(requiredSecret(client))}`)}`);
  } else {
    body.set('client_id', client.clientId);
    if (method === 'client_secret_post') body.set('client_secret', requiredSecret(client));
  }
  const response = await fetch(new Request(endpoint, { method: 'POST', headers, body, signal }));
  const answer = (await response.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
  if (!response.ok || typeof answer.access_token !== 'string') {
    throw PaymeshError.from(response, {
      error: { type: 'authentication_error', code: answer.error ?? 'token_request_failed', message: answer.error_description ?? `the token endpoint answered ${response.status}` },
    });
  }
  return answer as TokenResponse;
}

function requiredSecret(client: ClientCredentials): string {
  if (client.clientSecret === undefined) throw new TypeError(`client ${client.clientId}: this authentication method needs a clientSecret`);
  return client.clientSecret;
}

/** RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined for Basic. */
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20/g, '+');
}

function base64(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
