// The authorization code flow with PKCE at the protocol level, driven by openid-client (a certified
// relying-party library nobody here wrote) through the login page with an HTTP client: scopes,
// codes, PKCE, refresh rotation and reuse, revocation, introspection, audiences, redirect URIs.
// What a person does (sign in, wrong password, consent, sign out) is in Chromium:
// test/browser/sign-in.test.ts; forged form posts in test/html-pages.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { adminPassword, backends, eventually, startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';
import { HttpBrowser, formOn } from '@paymesh/app/testing/http-browser';

const webRedirect = 'http://localhost:5173/callback';
const partnerRedirect = 'https://partner.example/cb';
const partnerSecret = 'partner-secret-0123456789abcdef';
const env: TestEnv = {
  OAUTH_CLIENTS: JSON.stringify([
    { client_id: 'first-party-spa', client_name: 'Paymesh Web', token_endpoint_auth_method: 'none', redirect_uris: [webRedirect], post_logout_redirect_uris: ['http://localhost:5173/'], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid profile email offline_access payments:read payments:write notifications:read users:read users:admin' },
    { client_id: 'partner-app', client_name: 'Partner <App>', client_secret: partnerSecret, redirect_uris: [partnerRedirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid payments:read' },
  ]),
  FIRST_PARTY_CLIENTS: 'first-party-spa',
  // Short enough to watch a code expire within the test.
  AUTHORIZATION_CODE_TTL_SECONDS: '2',
};

for (const backend of backends()) {
  describe(`authorization code + PKCE through the login page (${backend})`, () => {
    let platform: TestPlatform;
    let issuer: URL;
    let web: oidc.Configuration;
    let alice: { id: number; username: string; password: string };

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      issuer = new URL(`http://localhost:${new URL(platform.gatewayUrl).port}/auth`);
      web = await oidc.discovery(issuer, 'first-party-spa', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
      alice = await platform.api.signUp();
    });
    after(async () => {
      await platform?.stop();
    });

    // First-party apps may ask for the platform-wide audience; a third-party app names one service.
    // The token requests name it too: without it an `openid` grant gives the userinfo token.
    const resourceFor = (config: oidc.Configuration) => (config.clientMetadata().client_id === 'first-party-spa' ? 'urn:paymesh:platform' : 'urn:paymesh:payments');
    /** Runs the browser part for `config`: returns the URL the browser lands on at the redirect URI. */
    const authorize = async (config: oidc.Configuration, redirectUri: string, params: Record<string, string>, credentials: { username: string; password: string }) => {
      const browser = new HttpBrowser();
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirectUri, resource: resourceFor(config), ...params });
      const loginPage = await browser.follow(url.toString(), redirectUri);
      assert.equal(loginPage.status, 200, loginPage.text.slice(0, 300));
      assert.match(loginPage.text, /<label for="username">/);
      const { action, csrf } = formOn(loginPage.text);
      const afterLogin = await browser.request(new URL(action, issuer), { method: 'POST', form: { csrf, username: credentials.username, password: credentials.password } });
      assert.equal(afterLogin.status, 303, afterLogin.text.slice(0, 300));
      const landed = await browser.follow(afterLogin.location!, redirectUri);
      return { browser, landed };
    };

    const pkce = async () => {
      const verifier = oidc.randomPKCECodeVerifier();
      return { verifier, challenge: await oidc.calculatePKCECodeChallenge(verifier), state: oidc.randomState() };
    };

    test('a user never gets scopes beyond their role, whatever the app asks for', async () => {
      const { verifier, challenge, state } = await pkce();
      const { landed } = await authorize(web, webRedirect, { scope: 'openid users:admin payments:read', code_challenge: challenge, code_challenge_method: 'S256', state }, alice);
      const tokens = await oidc.authorizationCodeGrant(web, new URL(landed.location!), { pkceCodeVerifier: verifier, expectedState: state }, { resource: resourceFor(web) });
      const scopes = new Set(String(tokens.scope ?? '').split(' '));
      assert.ok(scopes.has('payments:read'));
      assert.ok(!scopes.has('users:admin'));
    });

    test('a refresh token rotates, and presenting a used one revokes the whole grant', async () => {
      const { verifier, challenge, state } = await pkce();
      const { landed } = await authorize(web, webRedirect, { scope: 'openid offline_access payments:read', code_challenge: challenge, code_challenge_method: 'S256', state }, alice);
      const first = await oidc.authorizationCodeGrant(web, new URL(landed.location!), { pkceCodeVerifier: verifier, expectedState: state }, { resource: resourceFor(web) });
      const second = await oidc.refreshTokenGrant(web, first.refresh_token!, { resource: resourceFor(web) });
      assert.notEqual(second.refresh_token, first.refresh_token);
      assert.equal((await platform.api.call('GET', '/payments', { token: second.access_token })).status, 200);
      // An attacker replays the first (already used) refresh token:
      await assert.rejects(oidc.refreshTokenGrant(web, first.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
      // … and the legitimate chain is dead too: the grant was revoked.
      await assert.rejects(oidc.refreshTokenGrant(web, second.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
    });

    test('an authorization code works once: a second exchange is refused and revokes what the first issued', async () => {
      const { verifier, challenge, state } = await pkce();
      const { landed } = await authorize(web, webRedirect, { scope: 'openid offline_access payments:read', code_challenge: challenge, code_challenge_method: 'S256', state }, alice);
      const first = await oidc.authorizationCodeGrant(web, new URL(landed.location!), { pkceCodeVerifier: verifier, expectedState: state }, { resource: resourceFor(web) });
      assert.equal((await platform.api.call('GET', '/payments', { token: first.access_token })).status, 200);
      await assert.rejects(oidc.authorizationCodeGrant(web, new URL(landed.location!), { pkceCodeVerifier: verifier, expectedState: state }, { resource: resourceFor(web) }), (error: { error?: string }) => error.error === 'invalid_grant');
      // The code may have been stolen: everything it produced dies (RFC 9700 §4.2.4).
      await eventually(async () => ((await platform.api.call('GET', '/payments', { token: first.access_token })).status === 401 ? true : undefined), { timeoutMs: 1_000 });
      await assert.rejects(oidc.refreshTokenGrant(web, first.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
    });

    test('an expired authorization code is refused', async () => {
      const { verifier, challenge, state } = await pkce();
      const { landed } = await authorize(web, webRedirect, { scope: 'openid payments:read', code_challenge: challenge, code_challenge_method: 'S256', state }, alice);
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      await assert.rejects(oidc.authorizationCodeGrant(web, new URL(landed.location!), { pkceCodeVerifier: verifier, expectedState: state }, { resource: resourceFor(web) }), (error: { error?: string }) => error.error === 'invalid_grant');
    });

    test('a code exchange without redirect_uri is refused (RFC 6749 §4.1.3), even for an app with one registered URI; the code still works with it', async () => {
      const { verifier, challenge, state } = await pkce();
      const { landed } = await authorize(web, webRedirect, { scope: 'openid payments:read', code_challenge: challenge, code_challenge_method: 'S256', state }, alice);
      const code = new URL(landed.location!).searchParams.get('code')!;
      const exchange = (extra: Record<string, string>) => fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: 'first-party-spa', code_verifier: verifier, resource: resourceFor(web), ...extra }),
      });
      const without = await exchange({});
      assert.equal(without.status, 400);
      const refusal = await without.json() as { error: string; error_description: string };
      assert.equal(refusal.error, 'invalid_request');
      assert.match(refusal.error_description, /redirect_uri/);
      const withIt = await exchange({ redirect_uri: webRedirect });
      assert.equal(withIt.status, 200, await withIt.clone().text());
      assert.ok(((await withIt.json()) as { access_token?: string }).access_token);
    });

    test('a wrong PKCE verifier is refused at the token endpoint', async () => {
      const { challenge, state } = await pkce();
      const { landed } = await authorize(web, webRedirect, { scope: 'openid payments:read', code_challenge: challenge, code_challenge_method: 'S256', state }, alice);
      await assert.rejects(oidc.authorizationCodeGrant(web, new URL(landed.location!), { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: state }), (error: { error?: string }) => error.error === 'invalid_grant');
    });

    test('an authorization request without PKCE, or with the plain method, is refused', async () => {
      for (const params of [{}, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }] as Record<string, string>[]) {
        const browser = new HttpBrowser();
        const url = oidc.buildAuthorizationUrl(web, { redirect_uri: webRedirect, scope: 'openid', state: 's', ...params });
        const response = await browser.request(url);
        assert.equal(response.status, 303);
        const back = new URL(response.location!);
        assert.equal(`${back.origin}${back.pathname}`, webRedirect);
        assert.equal(back.searchParams.get('error'), 'invalid_request');
      }
    });

    test('the login page shares the brute-force count of POST /auth/login: a locked account is refused there too (429, Retry-After)', async () => {
      const bob = await platform.api.signUp();
      for (let i = 0; i < 10; i++) {
        assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: bob.username, password: `wrong-${i}` } })).status, 401);
      }
      const { challenge, state } = await pkce();
      const browser = new HttpBrowser();
      const url = oidc.buildAuthorizationUrl(web, { redirect_uri: webRedirect, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state });
      const page = await browser.follow(url.toString(), webRedirect);
      const { action, csrf } = formOn(page.text);
      const locked = await browser.request(new URL(action, issuer), { method: 'POST', form: { csrf, username: bob.username, password: bob.password } });
      assert.equal(locked.status, 429);
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      assert.match(locked.text, /role="alert"[^>]*>Too many failed sign-ins/);
    });

    test('a login form posted without the interaction cookie (another browser) is refused', async () => {
      const { challenge, state } = await pkce();
      const victim = new HttpBrowser();
      const url = oidc.buildAuthorizationUrl(web, { redirect_uri: webRedirect, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256', state });
      const page = await victim.follow(url.toString(), webRedirect);
      const { action, csrf } = formOn(page.text);
      const response = await new HttpBrowser().request(new URL(action, issuer), { method: 'POST', form: { csrf, username: alice.username, password: alice.password } });
      assert.equal(response.status, 400);
      assert.match(response.text, /expired or belongs to another window/);
    });

    /** Signs alice in with `config` and returns the tokens. */
    const signIn = async (config: oidc.Configuration, redirectUri: string, scope: string) => {
      const { verifier, challenge, state } = await pkce();
      const { browser, landed } = await authorize(config, redirectUri, { scope, code_challenge: challenge, code_challenge_method: 'S256', state }, alice);
      let location = landed.location;
      if (location === undefined || !location.startsWith(redirectUri)) {
        // A third-party app: allow on the consent page.
        const allow = formOn(landed.text);
        const answered = await browser.request(new URL(allow.action, issuer), { method: 'POST', form: { csrf: allow.csrf } });
        location = (await browser.follow(answered.location!, redirectUri)).location;
      }
      return { browser, tokens: await oidc.authorizationCodeGrant(config, new URL(location!), { pkceCodeVerifier: verifier, expectedState: state }, { resource: resourceFor(config) }) };
    };
    const refusedEverywhere = (token: string) =>
      eventually(async () => {
        const statuses = await Promise.all(['/payments', '/users/me', '/notifications/'].map((path) => platform.api.call('GET', path, { token })));
        return statuses.every((r) => r.status === 401) ? true : undefined;
      }, { timeoutMs: 1_000 });

    test('revoking an access token (RFC 7009) makes every service refuse it; only its own client can', async () => {
      const { tokens } = await signIn(web, webRedirect, 'openid payments:read users:read notifications:read');
      const partner = await oidc.discovery(issuer, 'partner-app', undefined, oidc.ClientSecretBasic(partnerSecret), { execute: [oidc.allowInsecureRequests] });
      await oidc.tokenRevocation(partner, tokens.access_token); // not partner's token: a no-op
      assert.equal((await platform.api.call('GET', '/payments', { token: tokens.access_token })).status, 200);
      await oidc.tokenRevocation(web, tokens.access_token);
      await refusedEverywhere(tokens.access_token);
    });

    test("revoking a refresh token ends its grant: the refresh token and the grant's access tokens are refused", async () => {
      const { tokens } = await signIn(web, webRedirect, 'openid offline_access payments:read users:read notifications:read');
      await oidc.tokenRevocation(web, tokens.refresh_token!);
      await assert.rejects(oidc.refreshTokenGrant(web, tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
      await refusedEverywhere(tokens.access_token);
    });

    test('a reused refresh token kills the live access tokens of its grant too', async () => {
      const { tokens } = await signIn(web, webRedirect, 'openid offline_access payments:read users:read notifications:read');
      const rotated = await oidc.refreshTokenGrant(web, tokens.refresh_token!, { resource: resourceFor(web) });
      await assert.rejects(oidc.refreshTokenGrant(web, tokens.refresh_token!));
      await refusedEverywhere(rotated.access_token);
    });

    test('introspection (RFC 7662) for confidential clients: active tokens described, revoked or foreign ones inactive', async () => {
      const partner = await oidc.discovery(issuer, 'partner-app', undefined, oidc.ClientSecretBasic(partnerSecret), { execute: [oidc.allowInsecureRequests] });
      const { tokens } = await signIn(partner, partnerRedirect, 'openid payments:read');
      const active = await oidc.tokenIntrospection(partner, tokens.access_token);
      assert.equal(active.active, true);
      assert.equal(active.sub, String(alice.id));
      assert.equal(active.client_id, 'partner-app');
      assert.match(String(active.scope), /payments:read/);
      assert.equal((await oidc.tokenIntrospection(partner, 'not-a-token')).active, false);
      // Another client's token (the contract's login, first-party) is not the partner's to learn about (RFC 7662 §4).
      const someoneElses = await platform.api.login(alice.username, alice.password);
      assert.deepEqual(await oidc.tokenIntrospection(partner, someoneElses).then((answer) => ({ ...answer })), { active: false });
      await oidc.tokenRevocation(partner, tokens.access_token);
      assert.equal((await oidc.tokenIntrospection(partner, tokens.access_token)).active, false);
      // A public client cannot introspect.
      await assert.rejects(oidc.tokenIntrospection(web, tokens.access_token), (error: { status?: number }) => error.status === 401);
      // A wrong secret is refused.
      const impostor = await oidc.discovery(issuer, 'partner-app', undefined, oidc.ClientSecretBasic('wrong-secret-wrong-secret'), { execute: [oidc.allowInsecureRequests] });
      await assert.rejects(oidc.tokenIntrospection(impostor, tokens.access_token), (error: { status?: number }) => error.status === 401);
      const raw = await fetch(`${platform.gatewayUrl}/auth/token/introspection`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('partner-app:wrong').toString('base64')}` }, body: new URLSearchParams({ token: tokens.access_token }) });
      assert.equal(raw.status, 401);
      assert.equal(((await raw.json()) as { error: string }).error, 'invalid_client');
    });

    test('a third-party token is for one service: payments accepts it, users and notifications refuse it; the platform-wide audience is not for third parties', async () => {
      const partner = await oidc.discovery(issuer, 'partner-app', undefined, oidc.ClientSecretBasic(partnerSecret), { execute: [oidc.allowInsecureRequests] });
      const { tokens } = await signIn(partner, partnerRedirect, 'openid payments:read');
      assert.equal((await platform.api.call('GET', '/payments', { token: tokens.access_token })).status, 200);
      for (const path of ['/users/me', '/notifications/']) assert.equal((await platform.api.call('GET', path, { token: tokens.access_token })).status, 401, path);
      const { challenge, state } = await pkce();
      const response = await new HttpBrowser().request(oidc.buildAuthorizationUrl(partner, { redirect_uri: partnerRedirect, resource: 'urn:paymesh:platform', scope: 'openid payments:read', code_challenge: challenge, code_challenge_method: 'S256', state }));
      assert.equal(new URL(response.location!).searchParams.get('error'), 'invalid_target');
    });

    test('a third-party app acting for an admin gets no admin power: no role claim, no admin scope, no auth audience', async () => {
      const partner = await oidc.discovery(issuer, 'partner-app', undefined, oidc.ClientSecretBasic(partnerSecret), { execute: [oidc.allowInsecureRequests] });
      const { verifier, challenge, state } = await pkce();
      const admin = { username: 'admin', password: adminPassword };
      const { browser, landed } = await authorize(partner, partnerRedirect, { scope: 'openid payments:read', code_challenge: challenge, code_challenge_method: 'S256', state }, admin);
      const allow = formOn(landed.text);
      const answered = await browser.request(new URL(allow.action, issuer), { method: 'POST', form: { csrf: allow.csrf } });
      const back = await browser.follow(answered.location!, partnerRedirect);
      const tokens = await oidc.authorizationCodeGrant(partner, new URL(back.location!), { pkceCodeVerifier: verifier, expectedState: state }, { resource: resourceFor(partner) });
      const claims = decodeJwt(tokens.access_token);
      assert.equal(claims.role, undefined);
      assert.doesNotMatch(String(claims.scope), /users:admin/);
      // The admin's view of payments (another user's list) is not available to it.
      const others = await platform.api.call('GET', `/payments?user_id=${alice.id}`, { token: tokens.access_token });
      assert.equal(others.status, 403);
      assert.equal(others.body.error.code, 'forbidden');
      const own = await platform.api.call('GET', '/payments', { token: tokens.access_token });
      assert.equal(own.status, 200);
      assert.ok(own.body.data.every((p: { user_id: number }) => p.user_id !== alice.id));
      const { challenge: c2 } = await pkce();
      const toAuth = await new HttpBrowser().request(oidc.buildAuthorizationUrl(partner, { redirect_uri: partnerRedirect, resource: 'urn:paymesh:auth', scope: 'openid', code_challenge: c2, code_challenge_method: 'S256', state: 's' }));
      assert.equal(new URL(toAuth.location!).searchParams.get('error'), 'invalid_target');
    });

    test('the login client behind POST /auth/login cannot be driven through a browser', async () => {
      const url = new URL(`${issuer}/authorize`);
      for (const [k, v] of Object.entries({ client_id: 'paymesh-login', response_type: 'code', redirect_uri: 'http://localhost:8080/callback', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', resource: 'urn:paymesh:platform' })) url.searchParams.set(k, v);
      const response = await new HttpBrowser().request(url);
      assert.equal(response.status, 400);
      assert.equal(response.location, undefined);
    });

    test('redirect URIs are matched exactly: a trailing slash, a suffix, a subdomain or http are refused without redirecting', async () => {
      for (const variant of [`${webRedirect}/`, `${webRedirect}x`, 'http://evil.localhost:5173/callback', webRedirect.replace('http://localhost', 'http://127.0.0.1'), 'https://localhost:5173/callback']) {
        const browser = new HttpBrowser();
        const url = oidc.buildAuthorizationUrl(web, { redirect_uri: variant, scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', state: 's' });
        const response = await browser.request(url);
        assert.equal(response.status, 400, variant);
        assert.equal(response.location, undefined, `no redirect to ${variant}`);
        assert.match(response.text, /redirect_uri/, 'the error page says why');
      }
    });
  });
}
