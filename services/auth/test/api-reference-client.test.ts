// paymesh-docs, the built-in client of the API reference site (the gateway's /docs, ADR 26), at
// the protocol level: a first-party public client whose one redirect URI is the site's page on the
// public URL, whose tokens are the platform-wide JWT with what the user's role allows, and which
// cannot use a secret, another redirect URI, another audience or another grant. The person's part
// in Chromium is test/browser/api-reference.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { adminPassword, backends, startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { HttpBrowser } from '@paymesh/app/testing/http-browser';
import { apiReferenceRedirectUri, publicUrlOfIssuer } from '@paymesh/platform/api-reference-client';
import { apiReferenceClient } from '../src/oidc/api-reference-client.ts';
import { authorizeCode, discover, issuerOf, type AuthorizedCode } from './sign-in.ts';

const platformResource = 'urn:paymesh:platform';
const everyScope = 'openid users:read users:write users:admin payments:read payments:write notifications:read notifications:write';

describe('the redirect URI of the API reference client', () => {
  test('is the site\'s page under the public URL the issuer is served from, in every way Paymesh runs', () => {
    for (const [issuer, page] of [
      ['http://localhost:8080/auth', 'http://localhost:8080/docs/oauth2-redirect.html'],
      ['http://paymesh.localhost/auth', 'http://paymesh.localhost/docs/oauth2-redirect.html'],
      ['https://paymesh.example.com/auth/', 'https://paymesh.example.com/docs/oauth2-redirect.html'],
      ['https://example.com/paymesh/auth', 'https://example.com/paymesh/docs/oauth2-redirect.html'],
    ] as const) {
      assert.deepEqual(apiReferenceClient(issuer).redirect_uris, [page], issuer);
      assert.equal(apiReferenceRedirectUri(publicUrlOfIssuer(issuer)), page);
    }
  });
});

for (const backend of backends()) {
  describe(`the API reference client paymesh-docs (${backend})`, () => {
    let platform: TestPlatform;
    let issuer: URL;
    let docs: oidc.Configuration;
    let redirectUri: string;
    let alice: SignedUpUser;

    before(async () => {
      platform = await startTestPlatform(backend);
      issuer = issuerOf(platform.gatewayUrl);
      redirectUri = `${issuer.origin}/docs/oauth2-redirect.html`;
      docs = await discover(issuer, 'paymesh-docs');
      alice = await platform.api.signUp();
    });
    after(async () => {
      await platform?.stop();
    });

    const signIn = (user: { username: string; password: string }, params: Record<string, string> = {}) =>
      authorizeCode(docs, { issuer, redirectUri, user, params: { scope: everyScope, ...params } });
    const exchange = (code: AuthorizedCode) =>
      oidc.authorizationCodeGrant(docs, code.callback, code.checks, { resource: platformResource });
    /** A token request as a page would send it, with `extra` fields. */
    const tokenRequest = (code: AuthorizedCode, extra: Record<string, string>) =>
      fetch(new URL(`${issuer.pathname}/token`, issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code', code: code.callback.searchParams.get('code')!, redirect_uri: redirectUri,
          code_verifier: code.checks.pkceCodeVerifier, client_id: 'paymesh-docs', resource: platformResource, ...extra,
        }),
      });

    test('a person signs in without a consent page and gets the platform-wide JWT every service accepts, with what their role allows and no refresh token', async () => {
      const tokens = await exchange(await signIn(alice, { scope: `${everyScope} offline_access` }));
      const claims = decodeJwt(tokens.access_token);
      assert.equal(claims.aud, platformResource);
      assert.equal(claims.client_id, 'paymesh-docs');
      assert.equal(claims.sub, String(alice.id));
      assert.deepEqual(String(claims.scope).split(' ').sort(), ['notifications:read', 'notifications:write', 'payments:read', 'payments:write', 'users:read', 'users:write']);
      assert.equal(tokens.refresh_token, undefined);
      for (const path of ['/users/me', '/payments', '/notifications/']) {
        assert.equal((await platform.api.call('GET', path, { token: tokens.access_token })).status, 200, path);
      }
      assert.equal((await platform.api.call('GET', '/users', { token: tokens.access_token })).status, 403, 'no admin route');
    });

    test('an admin signing in keeps the role and users:admin: the admin routes answer', async () => {
      const tokens = await exchange(await signIn({ username: 'admin', password: adminPassword }));
      const claims = decodeJwt(tokens.access_token);
      assert.ok(String(claims.scope).split(' ').includes('users:admin'));
      assert.equal(claims.role, 'admin');
      assert.equal((await platform.api.call('GET', '/users', { token: tokens.access_token })).status, 200);
    });

    test('a token request with a client secret is refused (a public client), and the same code then goes through without it', async () => {
      const code = await signIn(alice);
      const withSecret = await tokenRequest(code, { client_secret: 'a-secret-nobody-was-given' });
      assert.equal(withSecret.status, 401);
      assert.equal(((await withSecret.json()) as { error: string }).error, 'invalid_client');
      const withBasic = await fetch(new URL(`${issuer.pathname}/token`, issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('paymesh-docs:a-secret').toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: code.callback.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: code.checks.pkceCodeVerifier }),
      });
      assert.equal(withBasic.status, 401);
      const plain = await tokenRequest(code, {});
      assert.equal(plain.status, 200);
    });

    test('the code is bound to its PKCE verifier: another verifier, or none, is refused', async () => {
      for (const verifier of [oidc.randomPKCECodeVerifier(), '']) {
        const response = await tokenRequest(await signIn(alice), { code_verifier: verifier });
        assert.equal(response.status, 400);
        assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
      }
    });

    test('a redirect URI other than the site\'s own page is refused at the authorization endpoint, with no redirect', async () => {
      for (const other of ['http://localhost:5173/callback', `${issuer.origin}/docs/oauth2-redirect.html?x=1`, `${issuer.origin}/docs/`, 'https://evil.example/docs/oauth2-redirect.html']) {
        const url = oidc.buildAuthorizationUrl(docs, { redirect_uri: other, scope: 'openid payments:read', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' });
        const page = await new HttpBrowser().request(url.toString());
        assert.equal(page.status, 400, other);
        assert.equal(page.location, undefined, other);
        assert.match(page.text, /redirect_uri/, other);
      }
    });

    test('it gets no token for one service alone, and no client_credentials token', async () => {
      const url = oidc.buildAuthorizationUrl(docs, { redirect_uri: redirectUri, scope: 'openid payments:read', resource: 'urn:paymesh:payments', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' });
      const refused = await new HttpBrowser().request(url.toString());
      assert.equal(refused.status, 303);
      assert.equal(new URL(refused.location!).searchParams.get('error'), 'invalid_target');
      const credentials = await fetch(new URL(`${issuer.pathname}/token`, issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'paymesh-docs', resource: platformResource, scope: 'payments:read' }),
      });
      assert.equal(credentials.status, 400);
      assert.deepEqual(await credentials.json(), { error: 'invalid_request', error_description: 'requested grant type is not allowed for this client' });
    });
  });
}
