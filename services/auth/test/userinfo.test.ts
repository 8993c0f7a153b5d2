// A standard OpenID Connect client (openid-client, driven as its documentation shows) signs a user
// in and uses both halves of what it gets: the userinfo endpoint with the access token of the code
// exchange, and a service's API with an access token for that resource (RFC 8707), asked for with
// `resource` at the token endpoint. Discovery, code + PKCE, token, userinfo, refresh, API call.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { adminPassword, backends, startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';
import { authorizeCode, discover, issuerOf } from './sign-in.ts';

const redirect = 'https://partner.example/cb';
const secret = 'partner-secret-0123456789abcdef';
const env: TestEnv = {
  OAUTH_CLIENTS: JSON.stringify([
    { client_id: 'own-app', client_name: 'Paymesh app', client_secret: `own-${secret}`, redirect_uris: [redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid profile email offline_access payments:read' },
    { client_id: 'partner-app', client_name: 'Partner', client_secret: secret, redirect_uris: [redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid profile email offline_access payments:read' },
  ]),
  FIRST_PARTY_CLIENTS: 'own-app',
};

const payments = 'urn:paymesh:payments';

for (const backend of backends()) {
  describe(`userinfo and API tokens for one sign-in (${backend})`, () => {
    let platform: TestPlatform;
    let issuer: URL;
    let partner: oidc.Configuration;
    let alice: { id: number; username: string; password: string };
    const emailOf = (user: { username: string }) => `${user.username}@example.com`;

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      issuer = issuerOf(platform.gatewayUrl);
      partner = await discover(issuer, 'partner-app', oidc.ClientSecretBasic(secret));
      alice = await platform.api.signUp();
    });
    after(async () => {
      await platform?.stop();
    });

    const signIn = (params: Record<string, string>) => authorizeCode(partner, { issuer, redirectUri: redirect, user: alice, params });
    const userinfoOf = (token: string, sub: string) => oidc.fetchUserInfo(partner, token, sub);
    const status = async (path: string, token: string) => (await platform.api.call('GET', path, { token })).status;

    test('discovery names the userinfo endpoint under the public issuer', () => {
      assert.equal(partner.serverMetadata().userinfo_endpoint, `${issuer.href}/me`);
    });

    test('openid + a resource: the code exchange gives the userinfo token; resource= at the token endpoint gives the API token', async () => {
      const code = await signIn({ scope: 'openid profile email offline_access payments:read', resource: payments });
      const tokens = await oidc.authorizationCodeGrant(partner, code.callback, code.checks);
      const sub = tokens.claims()!.sub;
      assert.equal(sub, String(alice.id));
      // What the client naturally has after the exchange works at userinfo…
      const info = await userinfoOf(tokens.access_token, sub);
      assert.equal(info.sub, String(alice.id));
      assert.equal(info.preferred_username, alice.username);
      assert.equal(info.email, emailOf(alice));
      // email_verified goes with the address (OIDC Core 5.4): an app can tell one nobody confirmed.
      assert.equal(info.email_verified, false, 'alice has not followed her link yet');
      assert.ok(partner.serverMetadata().claims_supported?.includes('email_verified'));
      await platform.confirmEmail(alice.id);
      assert.equal((await userinfoOf(tokens.access_token, sub)).email_verified, true, 'once confirmed');
      // … and nowhere else: it is for the userinfo endpoint only.
      assert.equal(await status('/payments', tokens.access_token), 401);
      // The API token: the same grant, asked for the resource.
      const api = await oidc.refreshTokenGrant(partner, tokens.refresh_token!, { resource: payments });
      assert.equal(decodeJwt(api.access_token).aud, payments);
      assert.equal(await status('/payments', api.access_token), 200);
      // An API token is refused at userinfo, as RFC 8707 tokens for another audience are.
      await assert.rejects(userinfoOf(api.access_token, sub), (error: { status?: number }) => error.status === 401);
      // Refreshing without a resource gives a userinfo token again.
      const again = await oidc.refreshTokenGrant(partner, api.refresh_token!);
      assert.equal((await userinfoOf(again.access_token, sub)).sub, sub);
    });

    test('the code exchange can name the resource: the API token first, the userinfo token by refresh', async () => {
      const code = await signIn({ scope: 'openid email offline_access payments:read', resource: payments });
      const tokens = await oidc.authorizationCodeGrant(partner, code.callback, code.checks, { resource: payments });
      assert.equal(await status('/payments', tokens.access_token), 200);
      assert.equal(tokens.claims()!.sub, String(alice.id), 'the ID token names the user either way');
      const forUserinfo = await oidc.refreshTokenGrant(partner, tokens.refresh_token!);
      assert.equal((await userinfoOf(forUserinfo.access_token, String(alice.id))).email, emailOf(alice));
    });

    test('openid without a resource: userinfo works, and no API token can be had from that grant', async () => {
      const code = await signIn({ scope: 'openid profile offline_access payments:read' });
      const tokens = await oidc.authorizationCodeGrant(partner, code.callback, code.checks);
      const info = await userinfoOf(tokens.access_token, String(alice.id));
      assert.equal(info.preferred_username, alice.username);
      assert.equal(info.email, undefined, 'email was not asked for');
      assert.equal(info.email_verified, undefined, 'nor whether it is confirmed');
      await assert.rejects(oidc.refreshTokenGrant(partner, tokens.refresh_token!, { resource: payments }), (error: { error?: string }) => error.error === 'invalid_target');
      assert.equal((await userinfoOf((await oidc.refreshTokenGrant(partner, tokens.refresh_token!)).access_token, String(alice.id))).sub, String(alice.id));
    });

    test('the role claim goes to first-party clients only: a third-party app never learns who is an admin, at userinfo or in the ID token', async () => {
      const own = await discover(issuer, 'own-app', oidc.ClientSecretBasic(`own-${secret}`));
      const admin = { username: 'admin', password: adminPassword };
      for (const user of [admin, alice]) {
        const expected = user === admin ? 'admin' : 'user';
        for (const [config, firstParty] of [[partner, false], [own, true]] as const) {
          const code = await authorizeCode(config, { issuer, redirectUri: redirect, user, params: { scope: 'openid profile email' } });
          const tokens = await oidc.authorizationCodeGrant(config, code.callback, code.checks);
          const sub = tokens.claims()!.sub;
          const info = await oidc.fetchUserInfo(config, tokens.access_token, sub);
          const what = `${user.username} through ${firstParty ? 'a first-party' : 'a third-party'} app`;
          assert.equal(info.preferred_username, user.username, what);
          assert.equal(info.role, firstParty ? expected : undefined, `${what}: userinfo`);
          assert.equal(tokens.claims()!.role, undefined, `${what}: the ID token has only sub (profile claims are at userinfo)`);
          // Asking for the claim by name changes nothing (the claims parameter is off or ignored).
          const asked = await authorizeCode(config, { issuer, redirectUri: redirect, user, params: { scope: 'openid profile', claims: JSON.stringify({ id_token: { role: null }, userinfo: { role: { essential: true } } }) } });
          const askedTokens = await oidc.authorizationCodeGrant(config, asked.callback, asked.checks);
          if (!firstParty) assert.equal(askedTokens.claims()!.role, undefined, `${what}: asked-for role in the ID token`);
          assert.equal((await oidc.fetchUserInfo(config, askedTokens.access_token, sub)).role, firstParty ? expected : undefined, `${what}: asked-for role at userinfo`);
        }
      }
    });

    test('a userinfo token is described to its client (RFC 7662) and, once revoked (RFC 7009), refused at userinfo', async () => {
      const code = await signIn({ scope: 'openid profile', resource: payments });
      const tokens = await oidc.authorizationCodeGrant(partner, code.callback, code.checks);
      const described = await oidc.tokenIntrospection(partner, tokens.access_token);
      assert.equal(described.active, true);
      assert.equal(described.sub, String(alice.id));
      assert.equal(described.client_id, 'partner-app');
      await oidc.tokenRevocation(partner, tokens.access_token);
      await assert.rejects(userinfoOf(tokens.access_token, String(alice.id)), (error: { status?: number }) => error.status === 401);
      assert.equal((await oidc.tokenIntrospection(partner, tokens.access_token)).active, false);
    });
  });
}
