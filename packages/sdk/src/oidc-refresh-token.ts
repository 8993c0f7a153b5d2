// A user's session held by an app signed in with OpenID Connect: access tokens obtained with the
// refresh token the sign-in gave. Paymesh rotates refresh tokens on every use (presenting a used
// one revokes the whole grant), so each new refresh token is kept, and handed to `onRotate` for
// the app to store, and a refresh is never sent twice at once.
import { TokenCache } from './token-cache.ts';
import { discoverTokenEndpoint, requestToken, type ClientAuthMethod } from './token-endpoint.ts';
import type { TokenProvider } from './token-provider.ts';

export interface OidcRefreshTokenOptions {
  /** The issuer, `<gateway>/auth`. */
  readonly issuer: string;
  readonly clientId: string;
  /** A confidential client's secret; none for a public client (a browser or mobile app). */
  readonly clientSecret?: string;
  readonly authMethod?: ClientAuthMethod;
  /** The refresh token the sign-in (the authorization code grant with offline_access) returned. */
  readonly refreshToken: string;
  /** Called with each new refresh token: store it, the previous one no longer works. */
  readonly onRotate?: (refreshToken: string) => void | Promise<void>;
  /** Narrow the scopes or pick the audience of the access tokens (optional). */
  readonly scope?: string;
  readonly resource?: string;
  readonly refreshBeforeSeconds?: number;
  readonly fetch?: (request: Request) => Promise<Response>;
  readonly now?: () => number;
}

export interface OidcRefreshTokenProvider extends TokenProvider {
  /** The refresh token to present next (the newest the server returned). */
  readonly refreshToken: string;
}

export function oidcRefreshToken(options: OidcRefreshTokenOptions): OidcRefreshTokenProvider {
  const fetch = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  let endpoint: Promise<string> | undefined;
  let refreshToken = options.refreshToken;
  const cache = new TokenCache(async () => {
    endpoint ??= discoverTokenEndpoint(options.issuer, fetch).catch((error: unknown) => {
      endpoint = undefined;
      throw error;
    });
    const tokens = await requestToken(await endpoint, options, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: options.scope, resource: options.resource }, fetch);
    if (tokens.refresh_token !== undefined && tokens.refresh_token !== refreshToken) {
      refreshToken = tokens.refresh_token;
      await options.onRotate?.(refreshToken);
    }
    return { accessToken: tokens.access_token, expiresInSeconds: tokens.expires_in };
  }, options);
  return {
    get refreshToken() {
      return refreshToken;
    },
    getToken: () => cache.get(),
    invalidate: (token) => cache.invalidate(token),
  };
}
