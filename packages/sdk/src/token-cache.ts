// A token held until shortly before it expires, obtained by one request however many callers ask
// at once (single flight): ten requests starting together cost one grant, and a rotating refresh
// token is never presented twice.

export interface IssuedToken {
  readonly accessToken: string;
  /** Seconds it is valid for, from when it was issued (`expires_in`); undefined: until refused. */
  readonly expiresInSeconds: number | undefined;
}

export class TokenCache {
  readonly #obtain: () => Promise<IssuedToken>;
  readonly #refreshBeforeMs: number;
  readonly #now: () => number;
  #current: { token: string; renewAtMs: number } | undefined;
  #pending: Promise<string> | undefined;

  /** `refreshBeforeSeconds`: how long before its expiry a token is renewed. */
  constructor(obtain: () => Promise<IssuedToken>, options: { refreshBeforeSeconds?: number; now?: () => number } = {}) {
    this.#obtain = obtain;
    this.#refreshBeforeMs = (options.refreshBeforeSeconds ?? 30) * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** The held token, or the one being obtained (not aborted by one caller's signal: others share it). */
  get(): Promise<string> {
    const current = this.#current;
    if (current !== undefined && this.#now() < current.renewAtMs) return Promise.resolve(current.token);
    this.#pending ??= this.#renew().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /** Forgets `token` if it is still the one held (a 401 answered it). */
  invalidate(token: string): void {
    if (this.#current?.token === token) this.#current = undefined;
  }

  async #renew(): Promise<string> {
    const issuedAtMs = this.#now();
    const issued = await this.#obtain();
    const lifetimeMs = issued.expiresInSeconds === undefined ? Number.POSITIVE_INFINITY : issued.expiresInSeconds * 1000;
    // A short-lived token is renewed halfway instead, never "before it was issued".
    const renewAtMs = issuedAtMs + Math.max(lifetimeMs - this.#refreshBeforeMs, lifetimeMs / 2);
    this.#current = { token: issued.accessToken, renewAtMs };
    return issued.accessToken;
  }
}
