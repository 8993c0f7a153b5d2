// A user's access ends when the users service says so: after `user.password_changed`,
// `user.disabled`, `user.deleted` or a role change (`user.updated`), none of the user's access
// tokens, refresh tokens, sessions or unexchanged codes works any more, anywhere. The events are
// published the way the users service publishes them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { backends, eventually, startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import { HttpBrowser, formOn } from '@paymesh/app/testing/http-browser';

const redirect = 'http://localhost:5173/callback';
const scope = 'openid offline_access payments:read notifications:read';
const env: TestEnv = {
  OAUTH_CLIENTS: JSON.stringify([
    { client_id: 'wallet-web', token_endpoint_auth_method: 'none', redirect_uris: [redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope },
  ]),
  FIRST_PARTY_CLIENTS: 'wallet-web',
};

type User = { id: number; username: string; password: string };
type Code = { callback: URL; verifier: string; state: string };
/** Everything a signed-in user holds: a login token, an app's tokens, a signed-in browser, a code not yet exchanged. */
type Holdings = { login: string; appToken: string; refreshToken: string; browser: HttpBrowser; code: Code };

const invalidGrant = (error: { error?: string }) => error.error === 'invalid_grant';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of backends()) {
  describe(`a user's access ends on account events (${backend})`, () => {
    let platform: TestPlatform;
    let issuer: URL;
    let app: oidc.Configuration;

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      issuer = new URL(`http://localhost:${new URL(platform.gatewayUrl).port}/auth`);
      app = await oidc.discovery(issuer, 'wallet-web', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    });
    after(async () => {
      await platform?.stop();
    });

    const authDb = () => platform.embedded!.services.auth.runtime.database.db;

    /**
     * Publishes as the users service does, the change happening now; resolves once auth's consumer
     * has committed. Token times are whole seconds and tokens of the change's own second survive it
     * (a sign-in with the new password must), so the change waits for the second after the tokens
     * the test means to see revoked.
     */
    const publish = async (subject: string, data: unknown, id: string = randomUUID()) => {
      await sleep(1_000 - (Date.now() % 1_000) + 10);
      const event: EventEnvelope = { id, subject, occurredAt: new Date().toISOString(), requestId: undefined, data };
      await platform.embedded!.services.auth.runtime.transport.publish(event);
      return event;
    };

    /** Authorizes the app in `browser`, signing in when asked and `user` is given; undefined when the browser must sign in. */
    const authorize = async (browser: HttpBrowser, user?: User): Promise<Code | undefined> => {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(app, { redirect_uri: redirect, resource: 'urn:paymesh:platform', scope, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
      let page = await browser.follow(url.toString(), redirect);
      if (page.location === undefined && user !== undefined) {
        const { action, csrf } = formOn(page.text);
        const loggedIn = await browser.request(new URL(action, issuer), { method: 'POST', form: { csrf, username: user.username, password: user.password } });
        page = await browser.follow(loggedIn.location!, redirect);
      }
      return page.location?.startsWith(redirect) ? { callback: new URL(page.location), verifier, state } : undefined;
    };
    const exchange = (code: Code) => oidc.authorizationCodeGrant(app, code.callback, { pkceCodeVerifier: code.verifier, expectedState: code.state }, { resource: 'urn:paymesh:platform' });

    const signIn = async (user: User): Promise<Holdings> => {
      const login = await platform.api.login(user.username, user.password);
      const browser = new HttpBrowser();
      const tokens = await exchange((await authorize(browser, user))!);
      // Signed in: the next authorization goes straight back to the app with a code.
      const code = await authorize(browser);
      assert.ok(code !== undefined, 'the browser session signs the user in again');
      return { login, appToken: tokens.access_token, refreshToken: tokens.refresh_token!, browser, code };
    };
    const newUser = async (): Promise<User> => {
      const { id, username, password } = await platform.api.signUp();
      return { id, username, password };
    };

    const storedModels = async (user: User) => (await queryRows<{ model: string }>(authDb(),
      sql`select model from oidc_models where payload->>'accountId' = ${String(user.id)} order by model`)).map((row) => row.model);

    const refusedEverywhere = (token: string) => eventually(async () => {
      const responses = await Promise.all(['/payments', '/notifications/'].map((path) => platform.api.call('GET', path, { token })));
      return responses.every((r) => r.status === 401 && r.body.message === 'Invalid token') ? true : undefined;
    }, { timeoutMs: 2_000 });

    const assertEnded = async (user: User, held: Holdings) => {
      await refusedEverywhere(held.login);
      await refusedEverywhere(held.appToken);
      await assert.rejects(oidc.refreshTokenGrant(app, held.refreshToken), invalidGrant);
      await assert.rejects(exchange(held.code), invalidGrant);
      assert.equal(await authorize(held.browser), undefined, 'the browser has to sign in again');
      assert.deepEqual(await storedModels(user), []);
    };

    const assertUntouched = async (held: Holdings) => {
      for (const token of [held.login, held.appToken]) {
        for (const path of ['/payments', '/notifications/']) assert.equal((await platform.api.call('GET', path, { token })).status, 200, path);
      }
      const refreshed = await oidc.refreshTokenGrant(app, held.refreshToken, { resource: 'urn:paymesh:platform' });
      assert.equal((await platform.api.call('GET', '/payments', { token: refreshed.access_token })).status, 200);
      await exchange(held.code);
      assert.ok(await authorize(held.browser) !== undefined, 'the browser is still signed in');
    };

    /**
     * Token times have one-second resolution, so a revocation refuses the whole second it happened
     * in: a new sign-in is only expected to work from the next second.
     */
    const nextSecond = () => sleep(1_000 - (Date.now() % 1_000) + 10);

    test("after user.password_changed, the user's access tokens, refresh token, session and pending code stop working; a new sign-in works", async () => {
      const alice = await newUser();
      const bystander = await signIn(await newUser());
      const held = await signIn(alice);
      assert.deepEqual(new Set(await storedModels(alice)), new Set(['AuthorizationCode', 'Grant', 'RefreshToken', 'Session']));

      await publish('user.password_changed', { user_id: alice.id });
      await nextSecond();
      await assertEnded(alice, held);
      await assertUntouched(bystander);

      const login = await platform.api.login(alice.username, alice.password);
      assert.equal((await platform.api.call('GET', '/payments', { token: login })).status, 200);
      const again = await signIn(alice);
      await assertUntouched(again);
    });

    test("after user.disabled, the user's access tokens, refresh token, session and pending code stop working", async () => {
      const bob = await newUser();
      const bystander = await signIn(await newUser());
      const held = await signIn(bob);
      await publish('user.disabled', { user_id: bob.id });
      await assertEnded(bob, held);
      await assertUntouched(bystander);
    });

    test("after user.deleted, the user's refresh token and session end too, not only the access tokens", async () => {
      const dora = await newUser();
      const bystander = await signIn(await newUser());
      const held = await signIn(dora);
      await publish('user.deleted', { user_id: dora.id });
      await assertEnded(dora, held);
      await assertUntouched(bystander);
    });

    test('a sign-in with the new password right after the change, before auth hears of it, keeps working', async () => {
      const dana = await newUser();
      await nextSecond();
      const changedAt = new Date();
      // The user signs in with the new password at once; the event reaches auth a moment later.
      const login = await platform.api.login(dana.username, dana.password);
      await platform.embedded!.services.auth.runtime.transport.publish({ id: randomUUID(), subject: 'user.password_changed', occurredAt: changedAt.toISOString(), requestId: undefined, data: { user_id: dana.id } });
      await sleep(300);
      assert.equal((await platform.api.call('GET', '/payments', { token: login })).status, 200);
    });

    test('a token minted earlier in the same second as a password change is refused; one minted after the change in that second works (iat_ms)', async () => {
      const gus = await newUser();
      await nextSecond();
      const earlier = await platform.api.login(gus.username, gus.password);
      const changedAt = new Date();
      const later = await platform.api.login(gus.username, gus.password);
      await platform.embedded!.services.auth.runtime.transport.publish({ id: randomUUID(), subject: 'user.password_changed', occurredAt: changedAt.toISOString(), requestId: undefined, data: { user_id: gus.id } });
      await eventually(async () => ((await platform.api.call('GET', '/payments', { token: earlier })).status === 401 ? true : undefined));
      assert.equal((await platform.api.call('GET', '/payments', { token: later })).status, 200);
    });

    test('user.updated ends access when the role changed, and changes nothing when only the display name did', async () => {
      const carol = await newUser();
      const dan = await newUser();
      const carolHeld = await signIn(carol);
      const danHeld = await signIn(dan);
      await publish('user.updated', { user_id: carol.id, changes: ['display_name'] });
      await publish('user.updated', { user_id: dan.id, changes: ['display_name', 'role'] });
      // Dan's revocation is announced after whatever Carol's event might have caused.
      await assertEnded(dan, danHeld);
      await assertUntouched(carolHeld);
    });

    test('a redelivered event changes nothing more and does not fail: tokens issued since survive it', async () => {
      const erin = await newUser();
      const event = await publish('user.password_changed', { user_id: erin.id });
      const revocationsOf = () => queryRows(authDb(), sql`
        select r.issued_before, a.issued_before as account_issued_before from revocations r, account_revocations a
        where r.key = ${`sub:${erin.id}`} and a.account_id = ${String(erin.id)}`);
      const recorded = await revocationsOf();
      assert.equal(recorded.length, 1);
      await nextSecond();
      const held = await signIn(erin);

      await platform.embedded!.services.auth.runtime.transport.publish(event);
      assert.deepEqual(await revocationsOf(), recorded);
      // A later revocation (of someone else) has travelled, so anything the redelivery caused has too.
      const sentinel = await newUser();
      const sentinelHeld = await signIn(sentinel);
      await publish('user.password_changed', { user_id: sentinel.id });
      await refusedEverywhere(sentinelHeld.login);
      await assertUntouched(held);
    });

    test('a session or refresh token written back after the revocation (by a request in flight then) is still refused', async () => {
      const fay = await newUser();
      const held = await signIn(fay);
      const rows = await queryRows<{ model: string; id: string; payload: unknown; grant_id: string | null; uid: string | null; expires_at: string | Date | null }>(authDb(),
        sql`select model, id, payload, grant_id, uid, expires_at from oidc_models where payload->>'accountId' = ${String(fay.id)}`);
      await publish('user.password_changed', { user_id: fay.id });
      for (const row of rows) {
        await authDb().execute(sql`insert into oidc_models (model, id, payload, grant_id, uid, expires_at)
          values (${row.model}, ${row.id}, ${JSON.stringify(row.payload)}::jsonb, ${row.grant_id}, ${row.uid}, ${row.expires_at === null ? null : new Date(row.expires_at).toISOString()})`);
      }
      assert.deepEqual(new Set(await storedModels(fay)), new Set(['AuthorizationCode', 'Grant', 'RefreshToken', 'Session']));
      await assert.rejects(oidc.refreshTokenGrant(app, held.refreshToken), invalidGrant);
      await assert.rejects(exchange(held.code), invalidGrant);
      assert.equal(await authorize(held.browser), undefined, 'the browser has to sign in again');
    });
  });
}
