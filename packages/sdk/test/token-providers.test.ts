// The SDK's token providers against the platform's real issuer: a service's client credentials
// (discovered token endpoint, one grant for many requests, renewed before expiry) and an app's
// OIDC refresh token (rotated on each use, the new one kept). The providers' clock is injected, so
// expiry is reached by moving it rather than by waiting.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { serviceClientsEnv, startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { formOn, HttpBrowser } from '@paymesh/app/testing/http-browser';
import { AuthenticationError, clientCredentials, createPaymesh, oidcRefreshToken } from '@paymesh/sdk';

const notificationsSecret = randomBytes(24).toString('base64url');
const redirect = 'http://localhost:5173/callback';

describe('token providers', () => {
  let platform: TestPlatform;
  let issuer: string;
  let alice: SignedUpUser;
  /** Requests the providers sent to the issuer, as `METHOD path`. */
  const toIssuer: string[] = [];
  const recording = (request: Request) => {
    toIssuer.push(`${request.method} ${new URL(request.url).pathname}`);
    return fetch(request);
  };

  before(async () => {
    platform = await startTestPlatform('pglite', {
      env: {
        ...serviceClientsEnv({ notifications: notificationsSecret }),
        OAUTH_CLIENTS: JSON.stringify([
          { client_id: 'sdk-app', token_endpoint_auth_method: 'none', redirect_uris: [redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid offline_access payments:read payments:write' },
        ]),
        FIRST_PARTY_CLIENTS: 'sdk-app',
      },
    });
    // The issuer as clients see it: auth publishes the gateway under `localhost`.
    issuer = `http://localhost:${new URL(platform.gatewayUrl).port}/auth`;
    alice = await platform.api.signUp();
  });
  after(async () => {
    await platform?.stop();
  });

  test('client credentials: the token endpoint is discovered, one grant serves concurrent requests, and the service token is accepted', async () => {
    toIssuer.length = 0;
    const provider = clientCredentials({ issuer, clientId: 'notifications-service', clientSecret: notificationsSecret, scope: 'users:read', resource: 'urn:paymesh:users', fetch: recording });
    const paymesh = createPaymesh({ baseUrl: platform.gatewayUrl, token: provider });
    const users = await Promise.all(Array.from({ length: 5 }, () => paymesh.get('/users/{id}', { params: { path: { id: String(alice.id) } } })));
    assert.ok(users.every((user) => user.id === alice.id && user.username === alice.username));
    assert.deepEqual(toIssuer, ['GET /auth/.well-known/openid-configuration', 'POST /auth/token'], 'single flight: one grant for five requests');
    await paymesh.get('/users/{id}', { params: { path: { id: String(alice.id) } } });
    assert.equal(toIssuer.length, 2, 'the token is held');
  });

  test('client credentials: the token is renewed shortly before it expires, not after', async () => {
    toIssuer.length = 0;
    let nowMs = Date.now();
    const provider = clientCredentials({ issuer, clientId: 'notifications-service', clientSecret: notificationsSecret, scope: 'users:read', resource: 'urn:paymesh:users', refreshBeforeSeconds: 30, fetch: recording, now: () => nowMs });
    const first = await provider.getToken();
    const lifetimeSeconds = decodePayload(first).exp - decodePayload(first).iat;
    nowMs += (lifetimeSeconds - 31) * 1000;
    assert.equal(await provider.getToken(), first, '31 s before expiry: still held');
    nowMs += 2000;
    const second = await provider.getToken();
    assert.notEqual(second, first, '29 s before expiry: renewed');
    assert.equal(toIssuer.filter((r) => r === 'POST /auth/token').length, 2);
    assert.equal(toIssuer.filter((r) => r.startsWith('GET')).length, 1, 'discovered once');
  });

  test('client credentials with a wrong secret: AuthenticationError with the issuer\'s error code', async () => {
    const provider = clientCredentials({ issuer, clientId: 'notifications-service', clientSecret: 'not-the-secret-at-all', scope: 'users:read', resource: 'urn:paymesh:users' });
    const paymesh = createPaymesh({ baseUrl: platform.gatewayUrl, token: provider });
    const refused = await paymesh.get('/users/{id}', { params: { path: { id: String(alice.id) } } }).catch((e: unknown) => e);
    assert.ok(refused instanceof AuthenticationError, String(refused));
    assert.equal(refused.code, 'invalid_client');
    assert.equal(refused.status, 401);
  });

  test('an OIDC refresh token: access tokens from it, each rotation kept (onRotate), the used one refused afterwards', async () => {
    const signedIn = await signIn(issuer, alice);
    const rotations: string[] = [];
    let nowMs = Date.now();
    // `resource`: the audience of the access tokens (RFC 8707); without it the issuer mints one for its own userinfo only.
    const provider = oidcRefreshToken({ issuer, clientId: 'sdk-app', refreshToken: signedIn, resource: 'urn:paymesh:payments', onRotate: (token) => void rotations.push(token), now: () => nowMs });
    const paymesh = createPaymesh({ baseUrl: platform.gatewayUrl, token: provider });
    await paymesh.post('/payments', { body: { amount: 2, user_id: alice.id } });
    const listed = await paymesh.get('/payments');
    assert.equal(listed.data.length, 1);
    assert.equal(rotations.length, 1);
    assert.notEqual(rotations[0], signedIn);
    assert.equal(provider.refreshToken, rotations[0]);

    // Past the access token's expiry (on the provider's clock), the next request refreshes again
    // with the newest refresh token.
    nowMs += 16 * 60 * 1000;
    await paymesh.get('/payments');
    assert.equal(rotations.length, 2);
    assert.equal(provider.refreshToken, rotations[1]);

    // The first one was used: presenting it again is refused (and, by the issuer's rule, ends the grant).
    const replayed = oidcRefreshToken({ issuer, clientId: 'sdk-app', refreshToken: signedIn, resource: 'urn:paymesh:payments' });
    const refused = await replayed.getToken().catch((e: unknown) => e);
    assert.ok(refused instanceof AuthenticationError, String(refused));
    assert.equal(refused.code, 'invalid_grant');
  });
});

function decodePayload(jwt: string): { exp: number; iat: number } {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { exp: number; iat: number };
}

/** The authorization code flow with PKCE, the login page filled in as a browser would: the refresh token it yields. */
async function signIn(issuer: string, user: SignedUpUser): Promise<string> {
  const config = await oidc.discovery(new URL(issuer), 'sdk-app', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const browser = new HttpBrowser();
  const authorize = oidc.buildAuthorizationUrl(config, { redirect_uri: redirect, resource: 'urn:paymesh:payments', scope: 'openid offline_access payments:read payments:write', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
  const page = await browser.follow(authorize.toString(), redirect);
  const { action, csrf } = formOn(page.text);
  const loggedIn = await browser.request(new URL(action, issuer), { method: 'POST', form: { csrf, username: user.username, password: user.password } });
  const landed = await browser.follow(loggedIn.location!, redirect);
  const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.location!), { pkceCodeVerifier: verifier, expectedState: state });
  assert.ok(tokens.refresh_token !== undefined, 'offline_access gives a refresh token');
  return tokens.refresh_token;
}
