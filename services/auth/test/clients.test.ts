// The admin API for OAuth clients: only admins manage them; a registered app signs users in with
// the authorization code flow; a secret is shown once and rotates at once; a deleted client is
// gone for the provider too.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { backends, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { HttpBrowser, formOn } from '@paymesh/app/testing/http-browser';

const redirect = 'http://localhost:5173/callback';

for (const backend of backends()) {
  describe(`OAuth client admin API (${backend})`, () => {
    let platform: TestPlatform;
    let adminToken: string;
    let alice: { id: number; token: string; username: string; password: string };
    let issuer: URL;

    before(async () => {
      platform = await startTestPlatform(backend);
      adminToken = await platform.api.adminToken();
      alice = await platform.api.signUp();
      issuer = new URL(`http://localhost:${new URL(platform.gatewayUrl).port}/auth`);
    });
    after(async () => {
      await platform?.stop();
    });

    const register = (body: unknown, token = adminToken) => platform.api.call('POST', '/auth/clients', { token, json: body });
    /** Client authentication at the token endpoint: a bogus refresh token tells an authenticated client (invalid_grant) from a refused one (invalid_client). */
    const authenticate = async (clientId: string, secret: string) => {
      const response = await fetch(`${platform.gatewayUrl}/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'not-a-real-token' }),
      });
      return ((await response.json()) as { error: string }).error;
    };

    test('only admins manage clients: anonymous 401, an ordinary user 403', async () => {
      const body = { client_name: 'x', type: 'public', redirect_uris: [redirect] };
      assert.equal((await platform.api.call('POST', '/auth/clients', { json: body })).status, 401);
      assert.equal((await register(body, alice.token)).status, 403);
      assert.equal((await platform.api.call('GET', '/auth/clients', { token: alice.token })).status, 403);
    });

    test('invalid metadata is refused with its reason; unknown fields too', async () => {
      const badUri = await register({ client_name: 'x', type: 'public', redirect_uris: ['not a url'] });
      assert.equal(badUri.status, 400);
      assert.equal(badUri.body.error.code, 'client_metadata_invalid');
      const badScope = await register({ client_name: 'x', type: 'public', redirect_uris: [redirect], scope: 'openid superpowers' });
      assert.equal(badScope.status, 400);
      const extra = await register({ client_name: 'x', type: 'public', redirect_uris: [redirect], client_secret: 'chosen-by-me' });
      assert.equal(extra.status, 400);
      assert.equal(extra.body.error.code, 'parameter_unknown');
    });

    test('a registered first-party public client signs a user in with code + PKCE, without consent', async () => {
      const created = await register({ client_name: 'My SPA', type: 'public', redirect_uris: [redirect], first_party: true });
      assert.equal(created.status, 201);
      assert.equal(created.body.client_secret, undefined);
      assert.match(created.body.client_id, /^cli_/);
      const config = await oidc.discovery(issuer, created.body.client_id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const browser = new HttpBrowser();
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: redirect, scope: 'openid payments:read', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, resource: 'urn:paymesh:platform' });
      const page = await browser.follow(url.toString(), redirect);
      const { action, csrf } = formOn(page.text);
      const loggedIn = await browser.request(new URL(action, issuer), { method: 'POST', form: { csrf, username: alice.username, password: alice.password } });
      const landed = await browser.follow(loggedIn.location!, redirect);
      assert.ok(landed.location?.startsWith(redirect), 'no consent page for a first-party app');
      const tokens = await oidc.authorizationCodeGrant(config, new URL(landed.location!), { pkceCodeVerifier: verifier, expectedState: state }, { resource: 'urn:paymesh:platform' });
      assert.equal((await platform.api.call('GET', '/payments', { token: tokens.access_token })).status, 200);
    });

    test('a confidential client gets its secret once; rotating it refuses the old one at once', async () => {
      const created = await register({ client_name: 'Server app', type: 'confidential', redirect_uris: ['https://app.example/cb'] });
      assert.equal(created.status, 201);
      const { client_id: clientId, client_secret: secret } = created.body;
      assert.equal(typeof secret, 'string');
      const read = await platform.api.call('GET', `/auth/clients/${clientId}`, { token: adminToken });
      assert.equal(read.status, 200);
      assert.equal(read.body.client_secret, undefined);
      assert.equal(read.body.type, 'confidential');
      const listed = await platform.api.call('GET', '/auth/clients', { token: adminToken });
      assert.ok(listed.body.data.some((c: { client_id: string }) => c.client_id === clientId));
      assert.ok(listed.body.data.every((c: { client_secret?: string }) => c.client_secret === undefined));

      assert.equal(await authenticate(clientId, secret), 'invalid_grant');
      assert.equal(await authenticate(clientId, 'wrong-secret'), 'invalid_client');
      const rotated = await platform.api.call('POST', `/auth/clients/${clientId}/secret`, { token: adminToken });
      assert.equal(rotated.status, 200);
      assert.notEqual(rotated.body.client_secret, secret);
      assert.equal(await authenticate(clientId, secret), 'invalid_client');
      assert.equal(await authenticate(clientId, rotated.body.client_secret), 'invalid_grant');
    });

    test('a public client has no secret to rotate', async () => {
      const created = await register({ client_name: 'SPA', type: 'public', redirect_uris: [redirect] });
      const rotated = await platform.api.call('POST', `/auth/clients/${created.body.client_id}/secret`, { token: adminToken });
      assert.equal(rotated.status, 400);
      assert.equal(rotated.body.error.code, 'client_is_public');
    });

    test('a deleted client is gone: 404 on the API, refused by the provider', async () => {
      const created = await register({ client_name: 'Old app', type: 'confidential', redirect_uris: ['https://old.example/cb'] });
      const { client_id: clientId, client_secret: secret } = created.body;
      assert.equal((await platform.api.call('DELETE', `/auth/clients/${clientId}`, { token: adminToken })).status, 204);
      assert.equal((await platform.api.call('GET', `/auth/clients/${clientId}`, { token: adminToken })).status, 404);
      assert.equal((await platform.api.call('DELETE', `/auth/clients/${clientId}`, { token: adminToken })).status, 404);
      assert.equal(await authenticate(clientId, secret), 'invalid_client');
    });

    test('an id that names no registered client, however it is spelt, is 404 client_not_found on every route (the platform\'s own clients included)', async () => {
      for (const id of ['nope', 'cli_doesnotexist', `cli_${'x'.repeat(65)}`, 'payments-service', 'auth-service', 'cli_a.b', 'x'.repeat(200)]) {
        for (const [method, path] of [['GET', `/auth/clients/${id}`], ['DELETE', `/auth/clients/${id}`], ['POST', `/auth/clients/${id}/secret`]] as const) {
          const response = await platform.api.call(method, path, { token: adminToken });
          assert.deepEqual([response.status, response.body.error.code], [404, 'client_not_found'], `${method} ${path}`);
        }
      }
    });
  });
}
