// Client authentication for our own token endpoints (revocation, introspection), as the token
// endpoint does it: HTTP Basic or client_id/client_secret in the body, compared as the provider does;
// a public client identifies itself by client_id alone. Failures are throttled and logged by the
// caller (throttle/client-auth-throttle.ts), keyed by the client id presented here.
import type Provider from 'oidc-provider';

export interface AuthenticatedClient {
  readonly clientId: string;
  readonly confidential: boolean;
}

export interface PresentedClient {
  /** Undefined when the request names no client (or names it in a malformed way). */
  readonly clientId: string | undefined;
  readonly secret: string | undefined;
}

/** The client id and secret a request presents: HTTP Basic, or client_id/client_secret in the body. */
export function presentedClient(authorization: string | undefined, body: unknown): PresentedClient {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(authorization ?? '');
  if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return { clientId: undefined, secret: undefined };
    try {
      return { clientId: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
    } catch {
      return { clientId: undefined, secret: undefined }; // a malformed %-escape: not a client we know
    }
  }
  if (typeof fields.client_id === 'string') return { clientId: fields.client_id, secret: typeof fields.client_secret === 'string' ? fields.client_secret : undefined };
  return { clientId: undefined, secret: undefined };
}

/** The authenticated client, or undefined when authentication failed (the caller answers 401). */
export async function authenticateClient(provider: Provider, { clientId, secret }: PresentedClient): Promise<AuthenticatedClient | undefined> {
  if (clientId === undefined) return undefined;
  const client = await provider.Client.find(clientId);
  if (client === undefined) return undefined;
  if (client.tokenEndpointAuthMethod === 'none') {
    if (secret !== undefined) return undefined;
    return { clientId, confidential: false };
  }
  // The provider's own comparison: registered clients' secrets are stored hashed (clients/client-secret.ts).
  if (secret === undefined || !(await client.compareClientSecret(secret))) return undefined;
  return { clientId, confidential: true };
}
