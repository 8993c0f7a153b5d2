// A refresh that asks for a resource it cannot have (RFC 8707 `invalid_target`) is refused and
// changes nothing: the refresh token presented still works, and so does the grant behind it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { backends, startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';
import { authorizeCode, discover, issuerOf } from './sign-in.ts';

const redirect = 'http://localhost:5173/callback';
const env: TestEnv = {
  OAUTH_CLIENTS: JSON.stringify([
    { client_id: 'ledger-web', token_endpoint_auth_method: 'none', redirect_uris: [redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid offline_access payments:read notifications:read users:read' },
  ]),
  FIRST_PARTY_CLIENTS: 'ledger-web',
};

const payments = 'urn:paymesh:payments';
const notifications = 'urn:paymesh:notifications';

for (const backend of backends()) {
  describe(`refresh targets (${backend})`, () => {
    let platform: TestPlatform;
    let issuer: URL;
    let app: oidc.Configuration;

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      issuer = issuerOf(platform.gatewayUrl);
      app = await discover(issuer, 'ledger-web');
    });
    after(async () => {
      await platform?.stop();
    });

    /** A grant for payments and notifications; its first tokens. */
    const signIn = async (scope: string) => {
      const user = await platform.api.signUp();
      const params = new URLSearchParams({ scope });
      params.append('resource', payments);
      params.append('resource', notifications);
      const code = await authorizeCode(app, { issuer, redirectUri: redirect, user, params });
      return oidc.authorizationCodeGrant(app, code.callback, code.checks, { resource: payments });
    };

    const refusedAsInvalidTarget = (error: { error?: string; status?: number }) => error.error === 'invalid_target' && error.status === 400;

    test('a refresh for a resource outside the grant is refused with invalid_target, and the refresh token and grant keep working', async () => {
      const first = await signIn('openid offline_access payments:read notifications:read');
      let refreshToken = first.refresh_token!;
      const several = new URLSearchParams();
      several.append('resource', payments);
      several.append('resource', notifications);
      const refused: [string, URLSearchParams][] = [
        ['an unknown resource', new URLSearchParams({ resource: 'urn:paymesh:nowhere' })],
        ['a known resource not granted', new URLSearchParams({ resource: 'urn:paymesh:users' })],
        ['the platform-wide audience, not granted', new URLSearchParams({ resource: 'urn:paymesh:platform' })],
        ['a malformed URI', new URLSearchParams({ resource: 'not a uri' })],
        ['a URI with a fragment', new URLSearchParams({ resource: `${payments}#x` })],
        ['several resources at once', several],
      ];
      for (const [what, params] of refused) {
        await assert.rejects(oidc.refreshTokenGrant(app, refreshToken, params), refusedAsInvalidTarget, what);
        // The same refresh token still works: nothing was consumed.
        const renewed = await oidc.refreshTokenGrant(app, refreshToken, { resource: payments });
        assert.equal((await platform.api.call('GET', '/payments', { token: renewed.access_token })).status, 200, `after ${what}`);
        refreshToken = renewed.refresh_token!;
      }
      // Both granted resources are still there, each with its own token.
      const forNotifications = await oidc.refreshTokenGrant(app, refreshToken, { resource: notifications });
      assert.equal((await platform.api.call('GET', '/notifications/', { token: forNotifications.access_token })).status, 200);
    });

    test('a refresh naming no resource, for a grant of several without openid, is refused with invalid_target and the grant lives on', async () => {
      const first = await signIn('offline_access payments:read notifications:read');
      assert.ok(first.refresh_token !== undefined, 'a refresh token without openid too');
      await assert.rejects(oidc.refreshTokenGrant(app, first.refresh_token), refusedAsInvalidTarget);
      const renewed = await oidc.refreshTokenGrant(app, first.refresh_token, { resource: notifications });
      assert.equal((await platform.api.call('GET', '/notifications/', { token: renewed.access_token })).status, 200);
    });
  });
}
