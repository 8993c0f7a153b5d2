// The compatibility contract (BRIEF.md) end to end through the gateway, in embedded mode and in
// distributed mode (separate processes, PostgreSQL, NATS JetStream).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, startDistributedTestPlatform, startTestPlatform, testDatabaseUrl, testNatsUrl, type TestPlatform } from '@paymesh/app/testing';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

const modes: { name: string; start: () => Promise<TestPlatform>; skip: string | false }[] = [
  { name: 'embedded (PGlite, in-process events)', start: () => startTestPlatform('pglite'), skip: false },
  {
    name: 'distributed (one process per service, PostgreSQL, NATS JetStream)',
    start: startDistributedTestPlatform,
    skip: testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL (CI sets them)' : false,
  },
];

for (const mode of modes) {
  describeOrSkip(`compatibility contract, ${mode.name}`, mode.skip, () => {
    let platform: TestPlatform;
    before(async () => {
      platform = await mode.start();
    });
    after(async () => {
      await platform?.stop();
    });

    test('create user → log in → pay → notified → read → isolation → logout → delete → login fails', async () => {
      const { api } = platform;
      const suffix = Date.now().toString(36);
      const alice = { username: `alice_${suffix}`, email: `alice_${suffix}@example.com`, password: 'alice-password-1' };

      // create_user, form-encoded as Django's request.POST
      const created = await api.call('POST', '/users/create_user', { form: alice });
      assert.equal(created.status, 200);
      assert.deepEqual(created.body, { success: true, message: 'User created successfully' });
      const invalid = await api.call('POST', '/users/create_user/', { json: { username: 'nobody' } });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.success, false);
      assert.equal(invalid.body.message, 'Invalid input');

      // login → JWT
      const loginRequestId = `contract-login-${suffix}`;
      const login = await api.call('POST', '/auth/login', { json: { username: alice.username, password: alice.password }, headers: { 'x-request-id': loginRequestId } });
      assert.equal(login.status, 200);
      assert.match(login.body.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      const token: string = login.body.token;
      assert.equal((await api.call('POST', '/auth/login', { json: { username: alice.username, password: 'wrong-password' } })).status, 401);

      const me = await api.call('GET', '/users/me', { token });
      assert.equal(me.status, 200);
      const aliceId: number = me.body.id;

      // pay (with our own request id, which must follow the work across services and events)
      const requestId = `contract-${suffix}`;
      const payment = await api.call('POST', '/payments', { token, json: `{"amount": 100.00, "user_id": ${aliceId}}`, headers: { 'x-request-id': requestId } });
      assert.equal(payment.headers.get('x-request-id'), requestId);
      assert.equal(payment.status, 200);
      assert.equal(payment.body.success, true);
      assert.equal(payment.body.message, `Payment of $100.00 received from user ${aliceId}`);
      assert.equal(payment.body.payment.amount, 10000);
      assert.equal(payment.body.payment.currency, 'usd');

      // the notification appears
      const notification = await eventually(async () => {
        const list = await api.call('GET', '/notifications/', { token });
        assert.equal(list.status, 200);
        return list.body.length > 0 ? list.body[0] : undefined;
      });
      assert.deepEqual(Object.keys(notification).slice(0, 4), ['id', 'message', 'sent_at', 'read_at']);
      assert.equal(notification.read_at, null);
      assert.match(notification.message, /\$100\.00/);
      if (platform.logs !== undefined) {
        // One request id in the logs of a request and of the service call it caused (the login's
        // credential check), and of a payment and the event it published.
        const logged = (service: 'auth' | 'payments' | 'users' | 'notifications', id = requestId) => platform.logs!(service).split('\n').filter((line) => line.includes(`"reqId":"${id}"`));
        assert.ok(logged('auth', loginRequestId).some((line) => line.includes('"route":"/auth/login"')), 'auth logged the login');
        assert.ok(logged('users', loginRequestId).some((line) => line.includes('"route":"/users/internal/verify-credentials"')), 'users logged the credential check with the same id');
        assert.ok(logged('payments').some((line) => line.includes('"route":"/payments"')), 'payments logged the request');
        assert.ok(logged('notifications').some((line) => line.includes('event handled')), 'notifications logged the event with the same id');
      }

      // mark it read
      const marked = await api.call('PUT', `/notifications/${notification.id}/`, { token });
      assert.equal(marked.status, 200);
      assert.deepEqual(marked.body, { message: 'Notification marked as read.' });
      const afterRead = await api.call('GET', '/notifications', { token });
      assert.notEqual(afterRead.body[0].read_at, null);

      // another user can neither pay for alice nor read or mark her notification
      const mallory = await api.signUp(`mallory_${suffix}`);
      const forbidden = await api.call('POST', '/payments', { token: mallory.token, json: { amount: 100.0, user_id: aliceId } });
      assert.equal(forbidden.status, 403);
      assert.equal((await api.call('PUT', `/notifications/${notification.id}/`, { token: mallory.token })).status, 404);
      assert.deepEqual((await api.call('GET', '/notifications/', { token: mallory.token })).body, []);
      assert.equal((await api.call('GET', `/payments/${payment.body.payment.id}`, { token: mallory.token })).status, 404);

      // no token, bad token
      const missing = await api.call('GET', '/notifications/');
      assert.equal(missing.status, 401);
      assert.equal(missing.body.message, 'Authorization header missing');
      const bad = await api.call('GET', '/payments', { token: 'not.a.token' });
      assert.equal(bad.status, 401);
      assert.equal(bad.body.message, 'Invalid token');

      // logout: the token is refused by payments, users and notifications within a second
      const adminToken = await api.adminToken();
      const logout = await api.call('POST', '/auth/logout', { token });
      assert.equal(logout.status, 200);
      const loggedOutAt = Date.now();
      await eventually(async () => {
        const statuses = await Promise.all([
          api.call('GET', '/payments', { token }),
          api.call('GET', '/users/me', { token }),
          api.call('GET', '/notifications/', { token }),
        ]);
        return statuses.every((r) => r.status === 401 && r.body.message === 'Invalid token') ? true : undefined;
      }, { timeoutMs: 1_000 });
      assert.ok(Date.now() - loggedOutAt <= 1_000);

      // delete the user (as admin) → the login fails
      const deleted = await api.call('POST', '/users/delete_user', { token: adminToken, json: { user_id: aliceId } });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, { success: true, message: 'User deleted successfully' });
      const again = await api.call('POST', '/users/delete_user', { token: adminToken, form: { user_id: String(aliceId) } });
      assert.equal(again.status, 404);
      assert.deepEqual({ success: again.body.success, message: again.body.message }, { success: false, message: 'User not found' });
      assert.equal((await api.call('POST', '/auth/login', { json: { username: alice.username, password: alice.password } })).status, 401);
      // and payments for the deleted user are refused
      assert.equal((await api.call('POST', '/payments', { token: adminToken, json: { amount: 1, user_id: aliceId } })).status, 404);
    });
  });
}
