// Signing in and out as the built-in public client `paymesh-web` (ADR 27), with oauth4webapi:
// authorization code + PKCE (S256), the platform-wide resource asked at both ends, tokens kept in
// this module's memory only (a reload forgets them), renewed with the rotating refresh token, and
// RP-initiated logout that ends the session at auth. Only the PKCE verifier, the state and where
// to go back to wait in sessionStorage, for the redirect round trip, and are removed on return.
// Silent sign-in: a page loaded without tokens (a reload, a new tab) first asks auth with
// prompt=none, which answers with a code at once while the person's session at auth lives, or
// with login_required (nothing is shown at auth either way); a refresh token that no longer works
// is followed by the same silent attempt, so only a session that has really ended asks for the
// password again.
import * as oauth from 'oauth4webapi';
import type { TokenProvider } from '@paymesh/sdk';
import type { AppSettings } from './app-settings.ts';

const pendingKey = 'paymesh-web:sign-in';
/** Renew this long before the access token expires, so no request goes out with one about to. */
const renewEarlyMs = 30_000;

interface Pending {
  readonly verifier: string;
  readonly state: string;
  readonly returnTo: string;
  /** Asked with prompt=none: a refusal means "not signed in", not an error. */
  readonly silent?: boolean;
  /** Why a silent attempt was made after the app had been signed in: said if it is refused. */
  readonly reason?: string;
}

export interface SignInOptions {
  /** prompt=none: auth answers at once, without a page, with a code or with login_required. */
  readonly silent?: boolean;
  /** Shown on the signed-out page if the silent attempt is refused. */
  readonly reason?: string;
}

export interface SignedIn {
  readonly username: string;
  readonly subject: string;
  /** `admin` or `user`, from the ID token (first-party apps only get it). */
  readonly role: string;
}

export class Session {
  readonly #settings: AppSettings;
  readonly #client: oauth.Client;
  #server: oauth.AuthorizationServer | undefined;
  #accessToken: string | undefined;
  #accessExpiresAtMs = 0;
  #refreshToken: string | undefined;
  #idToken: string | undefined;
  #renewing: Promise<string> | undefined;
  #user: SignedIn | undefined;
  #silentRenewal: (() => string) | undefined;
  /** This app's other tabs and windows in this browser: a sign-out in one is heard in each. */
  readonly #tabs = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(tabsChannel);

  constructor(settings: AppSettings) {
    this.#settings = settings;
    // auth signs ID tokens with ES256 (oauth4webapi would expect RS256 otherwise).
    this.#client = { client_id: settings.clientId, id_token_signed_response_alg: 'ES256' };
  }

  /**
   * Calls `listener` when another tab of this browser completes a sign-out, after forgetting the
   * tokens here: their grant is gone at auth, and what the page shows must go with it now, not at
   * its next request.
   */
  onSignedOutElsewhere(listener: () => void): void {
    this.#tabs?.addEventListener('message', (event: MessageEvent<unknown>) => {
      if ((event.data as { type?: unknown } | null)?.type !== 'signed-out' || this.#user === undefined) return;
      this.#forget();
      this.#idToken = undefined;
      listener();
    });
  }

  /** Tells the other tabs that the session ended (called on the signed-out page, once auth has ended it). */
  announceSignedOut(): void {
    this.#tabs?.postMessage({ type: 'signed-out' });
  }

  /**
   * Whether the session still holds, asked when the server has said a token was revoked: a new
   * access token from the refresh token, or (the grant gone) the silent sign-in that says the
   * session ended.
   */
  async recheck(): Promise<void> {
    if (this.#accessToken === undefined) return;
    this.#accessExpiresAtMs = 0;
    await this.accessToken();
  }

  get user(): SignedIn | undefined {
    return this.#user;
  }

  /** Plain http is allowed only where the page itself is served over it (localhost during development). */
  #options(): { [oauth.allowInsecureRequests]?: boolean } {
    return location.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {};
  }

  async #discover(): Promise<oauth.AuthorizationServer> {
    if (this.#server !== undefined) return this.#server;
    const issuer = new URL(this.#settings.issuer);
    const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...this.#options() });
    this.#server = await oauth.processDiscoveryResponse(issuer, response);
    return this.#server;
  }

  /** Sends the browser to auth's sign-in page; it comes back to the redirect URI with a code. */
  async signIn(returnTo: string, options: SignInOptions = {}): Promise<never> {
    const server = await this.#discover();
    if (server.authorization_endpoint === undefined) throw new Error('the issuer has no authorization endpoint');
    const pending: Pending = { verifier: oauth.generateRandomCodeVerifier(), state: oauth.generateRandomState(), returnTo, silent: options.silent, reason: options.reason };
    sessionStorage.setItem(pendingKey, JSON.stringify(pending));
    const url = new URL(server.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: this.#settings.clientId,
      redirect_uri: this.#settings.redirectUri,
      response_type: 'code',
      scope: this.#settings.scopes.join(' '),
      resource: this.#settings.resource,
      state: pending.state,
      code_challenge: await oauth.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      ...(options.silent === true ? { prompt: 'none' } : {}),
    }).toString();
    location.assign(url);
    return new Promise<never>(() => {});
  }

  /** At the redirect URI: checks the state, exchanges the code (with the verifier and the resource) and keeps the tokens. Returns where to go. */
  async completeSignIn(current: URL): Promise<string> {
    const stored = sessionStorage.getItem(pendingKey);
    sessionStorage.removeItem(pendingKey);
    if (stored === null) throw new SignInError('This sign-in was not started here, or was already completed. Please sign in again.');
    const pending = JSON.parse(stored) as Pending;
    const server = await this.#discover();
    let params: URLSearchParams;
    try {
      params = oauth.validateAuthResponse(server, this.#client, current, pending.state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError && pending.silent === true) {
        // The session at auth lives but this app's grant does not (its lifetime ran out): a sign-in
        // that may interact is consented at once for a first-party app, without a page.
        if (error.error === 'consent_required') throw new InteractiveSignInNeeded(pending.returnTo);
        // No session at auth: simply not signed in. Any other refusal is a fault, said as one.
        if (notSignedInErrors.has(error.error)) throw new NotSignedIn(pending.returnTo, pending.reason);
      }
      if (error instanceof oauth.AuthorizationResponseError) throw new SignInError(`The sign-in was refused: ${error.error_description ?? error.error}.`);
      throw error;
    }
    const response = await oauth.authorizationCodeGrantRequest(server, this.#client, oauth.None(), params, this.#settings.redirectUri, pending.verifier, {
      additionalParameters: { resource: this.#settings.resource },
      ...this.#options(),
    });
    const result = await oauth.processAuthorizationCodeResponse(server, this.#client, response);
    this.#keep(result);
    const claims = oauth.getValidatedIdTokenClaims(result);
    if (claims === undefined) throw new SignInError('The sign-in answered without an ID token.');
    const username = typeof claims.preferred_username === 'string' ? claims.preferred_username : claims.sub;
    // First-party ID tokens carry the account's role: it only shapes the UI (admin pages shown);
    // the APIs decide from the access token, as always.
    this.#user = { username, subject: claims.sub, role: typeof claims.role === 'string' ? claims.role : 'user' };
    return pending.returnTo;
  }

  #keep(result: oauth.TokenEndpointResponse): void {
    this.#accessToken = result.access_token;
    this.#accessExpiresAtMs = Date.now() + (result.expires_in ?? 60) * 1000;
    // Rotation: each refresh answers with the next refresh token; the used one is dead.
    if (result.refresh_token !== undefined) this.#refreshToken = result.refresh_token;
    if (result.id_token !== undefined) this.#idToken = result.id_token;
  }

  /** A current access token: the one held, or a new one from the refresh token shortly before it expires. */
  async accessToken(): Promise<string> {
    if (this.#accessToken === undefined) throw new SignInError('You are not signed in.');
    if (Date.now() < this.#accessExpiresAtMs - renewEarlyMs) return this.#accessToken;
    this.#renewing ??= this.#renew().finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  async #renew(): Promise<string> {
    const refreshToken = this.#refreshToken;
    if (refreshToken === undefined) throw new SignInError('Your session has expired. Please sign in again.');
    const server = await this.#discover();
    const response = await oauth.refreshTokenGrantRequest(server, this.#client, oauth.None(), refreshToken, {
      additionalParameters: { resource: this.#settings.resource },
      ...this.#options(),
    });
    try {
      this.#keep(await oauth.processRefreshTokenResponse(server, this.#client, response));
    } catch (error) {
      if (!(error instanceof oauth.ResponseBodyError)) throw error;
      // auth failed for a moment (server_error, temporarily_unavailable, a rate limit): the
      // refresh token is still good, the next request tries again.
      if (error.error !== 'invalid_grant') throw new SignInError('Paymesh could not renew your session just now. Please try again in a moment.');
      this.#forget();
      // The refresh token is dead (its chain's lifetime ran out, or the session was ended): auth
      // may still know the person, so ask it silently, coming back to this page; it says so if
      // the session is over.
      if (this.#silentRenewal === undefined) throw new SignInError(sessionEndedSentence);
      return this.signIn(this.#silentRenewal(), { silent: true, reason: sessionEndedSentence });
    }
    return this.#accessToken!;
  }

  /** Once set, a dead refresh token is followed by a silent sign-in coming back to the address `here` gives. */
  renewSilentlyReturningTo(here: () => string): void {
    this.#silentRenewal = here;
  }

  /** What the SDK asks before every request. */
  tokenProvider(): TokenProvider {
    return {
      getToken: () => this.accessToken(),
      // A 401: the token was revoked (signed out elsewhere); the next request renews or asks to sign in.
      invalidate: () => void (this.#accessExpiresAtMs = 0),
    };
  }

  #forget(): void {
    this.#accessToken = undefined;
    this.#refreshToken = undefined;
    this.#user = undefined;
  }

  /** RP-initiated logout: forgets the tokens here and sends the browser to auth's end_session, which ends the session (and its grants). */
  async signOut(): Promise<never> {
    const server = await this.#discover();
    const idToken = this.#idToken;
    this.#forget();
    this.#idToken = undefined;
    if (server.end_session_endpoint === undefined) throw new Error('the issuer has no end_session endpoint');
    const url = new URL(server.end_session_endpoint);
    url.search = new URLSearchParams({
      client_id: this.#settings.clientId,
      post_logout_redirect_uri: this.#settings.signedOutUri,
      ...(idToken === undefined ? {} : { id_token_hint: idToken }),
    }).toString();
    location.assign(url);
    return new Promise<never>(() => {});
  }
}

const sessionEndedSentence = 'Your session has ended. Please sign in again.';
const tabsChannel = 'paymesh-web:session';

/** What a prompt=none request answers when there is no session at auth (OpenID Connect Core 3.1.2.6). */
const notSignedInErrors = new Set(['login_required', 'interaction_required', 'account_selection_required']);

/** A sign-in problem a person can act on: its message is a sentence to show as it is. */
export class SignInError extends Error {}

/** A silent sign-in was refused: show the signed-out page at `returnTo`, saying `reason` if any. */
export class NotSignedIn extends Error {
  readonly returnTo: string;
  readonly reason: string | undefined;

  constructor(returnTo: string, reason: string | undefined) {
    super(reason ?? 'You are not signed in.');
    this.returnTo = returnTo;
    this.reason = reason;
  }
}

/** A silent sign-in found auth's session but needs consent again: sign in normally, back to `returnTo`. */
export class InteractiveSignInNeeded extends Error {
  readonly returnTo: string;

  constructor(returnTo: string) {
    super('The sign-in needs to be confirmed.');
    this.returnTo = returnTo;
  }
}
