// GET /payments/ledger/status: admins see the last check of the ledger invariants, with the broken
// rules named; a check runs on the spot when none was made yet; nobody else may read it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, suitePlatform } from '@paymesh/app/testing';
import { sql } from '@paymesh/platform/db/open-database';

for (const backend of backends()) {
  describe(`ledger status (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice'] });
    const status = (token = suite.adminToken) => suite.platform.api.call('GET', '/payments/ledger/status', { token });

    test('an admin sees the invariants hold, checked on the spot when no check was made yet', async () => {
      assert.equal((await suite.platform.api.call('POST', '/payments', { token: suite.alice.token, json: { user_id: suite.alice.id, amount: '12.00' } })).status, 200);
      const before = Math.floor(Date.now() / 1000);
      const response = await status();
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.object, 'ledger_status');
      assert.equal(response.body.status, 'ok');
      assert.deepEqual(response.body.violations, []);
      assert.ok(response.body.checked >= before - 1 && response.body.checked <= Math.ceil(Date.now() / 1000), 'checked now');
    });

    test('the answer is the last check\'s: a broken balance shows once a check has run, named by its rule and account', async () => {
      const invariants = suite.platform.service('payments').context.invariants;
      await suite.db.execute(sql`update ledger_accounts set credits_posted = credits_posted + 1 where code = 'system:platform_revenue:USD'`);
      try {
        const stale = await status();
        assert.equal(stale.body.status, 'ok', 'no check since: still the last result');
        await invariants.run();
        const response = await status();
        assert.equal(response.status, 200);
        assert.equal(response.body.status, 'violated');
        const violation = (response.body.violations as { rule: string; detail: string }[]).find((v) => v.detail.startsWith('system:platform_revenue:USD'));
        assert.ok(violation !== undefined, JSON.stringify(response.body.violations));
        assert.match(violation.rule, /balance equals the sum of its entries/);
      } finally {
        await suite.db.execute(sql`update ledger_accounts set credits_posted = credits_posted - 1 where code = 'system:platform_revenue:USD'`);
        await invariants.run();
      }
      assert.equal((await status()).body.status, 'ok');
    });

    test('a user who is not an admin, or no token, is refused', async () => {
      const user = await status(suite.alice.token);
      assert.equal(user.status, 403);
      assert.equal(user.body.error.code, 'forbidden');
      const anonymous = await suite.platform.api.call('GET', '/payments/ledger/status');
      assert.equal(anonymous.status, 401);
    });
  });
}
