// A refresh token chain has an absolute lifetime: each rotation hands out a new refresh token,
// but never more time than the chain had left.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';
import { HttpBrowser, formOn } from '@paymesh/app/testing/http-browser';

const redirect = 'http://localhost:5173/callback';
const env: TestEnv = {
  OAUTH_CLIENTS: JSON.stringify([
    { client_id: 'short-lived', token_endpoint_auth_method: 'none', redirect_uris: [redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid offline_access payments:read' },
  ]),
  FIRST_PARTY_CLIENTS: 'short-lived',
  REFRESH_TOKEN_TTL_SECONDS: '4',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('refresh token lifetime', () => {
  let platform: TestPlatform;

  before(async () => {
    platform = await startTestPlatform('pglite', { env });
  });
  after(async () => {
    await platform?.stop();
  });

  test('rotation never extends the chain: past REFRESH_TOKEN_TTL_SECONDS from sign-in, even the newest refresh token is refused', async () => {
    const alice = await platform.api.signUp();
    const issuer = new URL(`http://localhost:${new URL(platform.gatewayUrl).port}/auth`);
    const config = await oidc.discovery(issuer, 'short-lived', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const browser = new HttpBrowser();
    const page = await browser.follow(oidc.buildAuthorizationUrl(config, { redirect_uri: redirect, resource: 'urn:paymesh:payments', scope: 'openid offline_access payments:read', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state }).toString(), redirect);
    const { action, csrf } = formOn(page.text);
    const loggedIn = await browser.request(new URL(action, issuer), { method: 'POST', form: { csrf, username: alice.username, password: alice.password } });
    const landed = await browser.follow(loggedIn.location!, redirect);
    const signedInAt = Date.now();
    let refreshToken = (await oidc.authorizationCodeGrant(config, new URL(landed.location!), { pkceCodeVerifier: verifier, expectedState: state })).refresh_token!;

    // Rotate twice within the chain's lifetime: each new refresh token has less time left.
    for (const at of [1_200, 2_400]) {
      await sleep(signedInAt + at - Date.now());
      const previous = refreshToken;
      refreshToken = (await oidc.refreshTokenGrant(config, previous)).refresh_token!;
      assert.notEqual(refreshToken, previous);
    }
    await sleep(signedInAt + 4_800 - Date.now());
    await assert.rejects(oidc.refreshTokenGrant(config, refreshToken), (error: { error?: string }) => error.error === 'invalid_grant');
  });
});
