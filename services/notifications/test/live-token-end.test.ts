// A live stream lives no longer than the token it was opened with: it ends at the token's `exp`
// and as soon as the token is revoked, whatever revokes it (logout, RFC 7009 revocation, a password
// change, a disabled or deleted account), on every replica; a reconnect with that token is refused.
// Each trigger on PGlite, on PostgreSQL, and distributed (one process per service, NATS). In process
// the services' clock is moved past the token's lifetime; the distributed run waits it out for real.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, eventually, startDistributedTestPlatform, startTestPlatform, testDatabaseUrl, testNatsUrl, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { SkewedClock } from '@paymesh/platform/testing/skewed-clock';
import { Stream } from './sse-stream.ts';

// The shortest lifetime auth allows, so that the expiry case ends within the suite where real time passes.
const ttlSec = 60;
const env = { ACCESS_TOKEN_TTL_SECONDS: String(ttlSec) };

const triggers: Record<string, { reason: string; run: (platform: TestPlatform, user: SignedUpUser, adminToken: string) => Promise<void> }> = {
  'a logout': {
    reason: 'token_revoked',
    run: async (platform, user) => assert.equal((await platform.api.call('POST', '/auth/logout', { token: user.token })).status, 200),
  },
  'an RFC 7009 revocation of the token': {
    reason: 'token_revoked',
    run: async (platform, user) => assert.equal((await platform.api.call('POST', '/auth/token/revocation', { form: { token: user.token, client_id: 'paymesh-login' } })).status, 200),
  },
  'a password change': {
    reason: 'token_revoked',
    run: async (platform, user) => {
      const changed = await platform.api.call('POST', '/users/me/password', { token: user.token, json: { current_password: user.password, new_password: `${user.password}-new` } });
      assert.ok(changed.status < 300, JSON.stringify(changed.body));
    },
  },
  'the account being disabled': {
    reason: 'token_revoked',
    run: async (platform, user, adminToken) => assert.equal((await platform.api.call('PATCH', `/users/${user.id}`, { token: adminToken, json: { status: 'disabled' } })).status, 200),
  },
  'the account being deleted': {
    reason: 'token_revoked',
    run: async (platform, user, adminToken) => assert.equal((await platform.api.call('POST', '/users/delete_user', { token: adminToken, json: { user_id: user.id } })).status, 200),
  },
};

/** `clock`: the platform's, moved forward by the expiry case; without one, real time passes. */
function streamEndTests(label: string, start: () => Promise<TestPlatform>, clock?: SkewedClock): void {
  describe(`notifications: a live stream ends with its token (${label})`, { timeout: 300_000 }, () => {
    let platform: TestPlatform;
    let adminToken: string;
    let bystander: Stream;
    let expiring: Stream;
    let expiringToken: string;

    before(async () => {
      platform = await start();
      adminToken = await platform.api.adminToken();
      // Opened first, checked last: where real time passes, the 60 s of its token run while the other cases do.
      expiringToken = (await platform.api.signUp()).token;
      expiring = await Stream.open(`${platform.gatewayUrl}/notifications/stream`, expiringToken);
      bystander = await Stream.open(`${platform.gatewayUrl}/notifications/stream`, (await platform.api.signUp()).token);
      assert.equal(expiring.status, 200);
      assert.equal(bystander.status, 200);
    });
    after(async () => {
      await expiring?.close();
      await bystander?.close();
      await platform?.stop();
    });

    for (const [name, trigger] of Object.entries(triggers)) {
      test(`${name} ends the stream (event "end", ${trigger.reason}); a reconnect with the token is 401; others' streams stay open`, async () => {
        const user = await platform.api.signUp();
        const stream = await Stream.open(`${platform.gatewayUrl}/notifications/stream`, user.token);
        assert.equal(stream.status, 200);
        await eventually(async () => (stream.of('unread_count').length > 0 ? true : undefined));
        await trigger.run(platform, user, adminToken);
        await eventually(async () => (stream.ended ? true : undefined), { timeoutMs: 15_000 });
        assert.deepEqual(stream.of('end').map((e) => e.data.reason), [trigger.reason]);
        const again = await Stream.open(`${platform.gatewayUrl}/notifications/stream`, user.token);
        assert.equal(again.status, 401);
        assert.equal(bystander.ended, false, 'another user\'s stream is untouched');
        await stream.close();
      });
    }

    test('a stream ends when its token expires (event "end", token_expired)', async () => {
      clock?.advance(ttlSec * 1000);
      await eventually(async () => (expiring.ended ? true : undefined), { timeoutMs: 120_000, intervalMs: 250 });
      assert.deepEqual(expiring.of('end').map((e) => e.data.reason), ['token_expired']);
      if (clock !== undefined) {
        // Past the verifiers' clock leeway too, the token opens nothing.
        clock.advance(10_000);
        assert.equal((await Stream.open(`${platform.gatewayUrl}/notifications/stream`, expiringToken)).status, 401);
      }
    });
  });
}

for (const backend of backends()) {
  const clock = new SkewedClock();
  streamEndTests(backend, () => startTestPlatform(backend, { env, clock }), clock);
}
if (testDatabaseUrl !== undefined && testNatsUrl !== undefined) streamEndTests('distributed, NATS', () => startDistributedTestPlatform({ env }));
