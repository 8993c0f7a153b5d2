// The browser's part of the authorization code flow over HTTP, for protocol tests: follow the
// authorization URL, sign in on the login page, allow on the consent page when one is shown, and
// stop at the redirect URI with the code.
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { HttpBrowser, formOn } from '@paymesh/app/testing/http-browser';

export interface AuthorizedCode {
  /** The redirect URI the browser was sent back to, with `code` and `state`. */
  readonly callback: URL;
  readonly checks: { pkceCodeVerifier: string; expectedState: string };
  readonly browser: HttpBrowser;
}

export async function authorizeCode(config: oidc.Configuration, options: {
  readonly issuer: URL;
  readonly redirectUri: string;
  readonly user: { username: string; password: string };
  /** Authorization request parameters beyond redirect_uri and PKCE: scope, resource… */
  readonly params: Record<string, string> | URLSearchParams;
}): Promise<AuthorizedCode> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const params = new URLSearchParams(options.params);
  params.set('redirect_uri', options.redirectUri);
  params.set('code_challenge', await oidc.calculatePKCECodeChallenge(verifier));
  params.set('code_challenge_method', 'S256');
  params.set('state', state);
  const browser = new HttpBrowser();
  const loginPage = await browser.follow(oidc.buildAuthorizationUrl(config, params).toString(), options.redirectUri);
  assert.equal(loginPage.status, 200, loginPage.text.slice(0, 300));
  const login = formOn(loginPage.text);
  const loggedIn = await browser.request(new URL(login.action, options.issuer), { method: 'POST', form: { csrf: login.csrf, username: options.user.username, password: options.user.password } });
  assert.equal(loggedIn.status, 303, loggedIn.text.slice(0, 300));
  let landed = await browser.follow(loggedIn.location!, options.redirectUri);
  if (landed.location === undefined) {
    // A third-party app: the user allows it on the consent page.
    const consent = formOn(landed.text);
    const allowed = await browser.request(new URL(consent.action, options.issuer), { method: 'POST', form: { csrf: consent.csrf } });
    landed = await browser.follow(allowed.location!, options.redirectUri);
  }
  assert.ok(landed.location?.startsWith(options.redirectUri), `back at the app, got ${landed.status} ${landed.location}`);
  return { callback: new URL(landed.location!), checks: { pkceCodeVerifier: verifier, expectedState: state }, browser };
}

/** The issuer as clients see it: the gateway under `localhost`, the host name auth publishes. */
export const issuerOf = (gatewayUrl: string) => new URL(`http://localhost:${new URL(gatewayUrl).port}/auth`);

/** An openid-client configuration from discovery (plain http: tests run on loopback). */
export const discover = (issuer: URL, clientId: string, auth: oidc.ClientAuth = oidc.None()) =>
  oidc.discovery(issuer, clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
