// A back end's own token (OAuth 2 client credentials): a service of the platform, or a partner
// registered with POST /auth/clients. Obtained from the issuer's token endpoint (discovered once),
// held until shortly before it expires, one grant at a time however many requests wait for it.
import { TokenCache } from './token-cache.ts';
import { discoverTokenEndpoint, requestToken, type ClientAuthMethod } from './token-endpoint.ts';
import type { TokenProvider } from './token-provider.ts';

export interface ClientCredentialsOptions {
  /** The issuer, `<gateway>/auth`: its token endpoint is read from `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default client_secret_basic. */
  readonly authMethod?: Exclude<ClientAuthMethod, 'none'>;
  /** Space-separated scopes to ask for (`users:read`). */
  readonly scope?: string;
  /** The audience (RFC 8707 resource indicator): `urn:paymesh:users` … */
  readonly resource?: string;
  /** Renew this long before the token expires (default 30 s). */
  readonly refreshBeforeSeconds?: number;
  readonly fetch?: (request: Request) => Promise<Response>;
  /** The time now in ms (default Date.now): tests move it instead of waiting for an expiry. */
  readonly now?: () => number;
}

export function clientCredentials(options: ClientCredentialsOptions): TokenProvider {
  const fetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  let endpoint: Promise<string> | undefined;
  const cache = new TokenCache(async () => {
    endpoint ??= discoverTokenEndpoint(options.issuer, fetch).catch((error: unknown) => {
      endpoint = undefined; // the next grant discovers again
      throw error;
    });
    const tokens = await requestToken(await endpoint, options, { grant_type: 'client_credentials', scope: options.scope, resource: options.resource }, fetch);
    return { accessToken: tokens.access_token, expiresInSeconds: tokens.expires_in };
  }, options);
  return {
    getToken: () => cache.get(),
    invalidate: (token) => cache.invalidate(token),
  };
}
