// Where the SDK gets the bearer token it sends: a fixed string, or a provider that obtains and
// renews one (client-credentials.ts, oidc-refresh-token.ts). The SDK asks before every attempt,
// so a retry after a long wait, or a stream reconnecting, gets a current token.

export interface TokenProvider {
  /** A token valid now (a provider caches it and renews it shortly before it expires). */
  getToken(signal?: AbortSignal): Promise<string>;
  /** The server refused `token` (401): forget it, so that the next getToken obtains a new one. */
  invalidate?(token: string): void;
}

/** What `createPaymesh({ token })` takes: the token itself, or a provider. */
export type TokenSource = string | TokenProvider;

/** A token given once, never renewed (a user's login token, a test's). */
export function staticToken(token: string): TokenProvider {
  if (token.length === 0) throw new TypeError('staticToken: the token is empty');
  return { getToken: async () => token };
}

export function tokenProviderOf(source: TokenSource): TokenProvider {
  return typeof source === 'string' ? staticToken(source) : source;
}
