// Client authentication for our own token endpoints (revocation, introspection), as the token
// endpoint does it: HTTP Basic or client_id/client_secret in the body, compared as the provider does;
// a public client identifies itself by client_id alone.
import type Provider from 'oidc-provider';
import type { FastifyRequest } from 'fastify';

export interface AuthenticatedClient {
  readonly clientId: string;
  readonly confidential: boolean;
}

/** The authenticated client, or undefined when authentication failed (the caller answers 401). */
export async function authenticateClient(provider: Provider, request: FastifyRequest): Promise<AuthenticatedClient | undefined> {
  const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
  let clientId: string | undefined;
  let secret: string | undefined;
  const basic = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '');
  if (basic !== null) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    } catch {
      return undefined; // a malformed %-escape: not a client we know
    }
  } else if (typeof body.client_id === 'string') {
    clientId = body.client_id;
    secret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
  }
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
