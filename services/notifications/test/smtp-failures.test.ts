// Notifications through the gateway, against a real database and a real SMTP exchange with an
// in-process sink: SMTP refusals and the retry schedule. The platform and helpers the suites share
// are in email-harness.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { addressOf, emailSuite } from './email-harness.ts';

for (const backend of backends()) {
  describe(`notifications: email, preferences, account messages and erasure (${backend})`, () => {
    const suite = emailSuite(backend);
    const { signUp, pay, mailsTo, mailTo, deliveries, delivery } = suite;

    describe('SMTP failures', () => {
      test('a recipient refused with a 4xx stays pending with attempts counted, then is dead after the retry schedule', async () => {
        const mia = await signUp();
        suite.sink.behaviour.set(addressOf(mia), { code: 450 });
        await pay(mia, '21.00');
        const pending = await eventually(async () => (await deliveries(mia, '?channel=email')).find((d) => d.status === 'pending' && d.attempts >= 1 && d.last_error !== null), { timeoutMs: 5_000 });
        assert.match(pending.last_error!, /450/);
        const dead = await eventually(async () => {
          const found = (await delivery(mia, pending.id)).body;
          return found.status === 'dead' ? found : undefined;
        }, { timeoutMs: 10_000 });
        // 1s,1s: three attempts in all
        assert.equal(dead.attempts, 3);
        assert.match(dead.last_error, /450/);
        assert.deepEqual(dead.attempt_log.map((a: { attempt: number; outcome: string; status_code: number }) => [a.attempt, a.outcome, a.status_code]), [[1, 'retry', 450], [2, 'retry', 450], [3, 'retry', 450]]);
        assert.equal(mailsTo(mia).length, 0);
      });

      test('a recipient refused with a 5xx is dead after one attempt; redelivered once the server accepts, it is delivered', async () => {
        const noah = await signUp();
        suite.sink.behaviour.set(addressOf(noah), { code: 550 });
        await pay(noah, '22.00');
        const [email] = await eventually(async () => {
          const found = await deliveries(noah, '?channel=email&status=dead');
          return found.length === 1 ? found : undefined;
        }, { timeoutMs: 5_000 });
        assert.equal(email!.attempts, 1);
        assert.match(email!.last_error!, /550/);
        const dead = (await delivery(noah, email!.id)).body;
        assert.deepEqual(dead.attempt_log.map((a: { outcome: string; status_code: number }) => [a.outcome, a.status_code]), [['failed', 550]]);

        suite.sink.behaviour.delete(addressOf(noah));
        const redeliver = await suite.platform.api.call('POST', `/notifications/deliveries/${email!.id}/redeliver`, { token: noah.token });
        assert.equal(redeliver.status, 202, JSON.stringify(redeliver.body));
        assert.equal(redeliver.body.id, email!.id);
        const mail = await mailTo(noah, (m) => m.text.includes('$22.00'));
        assert.equal(mail.headers.get('subject'), 'Payment received');
        const delivered = await eventually(async () => {
          const found = (await delivery(noah, email!.id)).body;
          return found.status === 'delivered' ? found : undefined;
        });
        assert.equal(delivered.last_error, null);
        assert.deepEqual(delivered.attempt_log.map((a: { attempt: number; outcome: string; status_code: number }) => [a.attempt, a.outcome, a.status_code]), [[1, 'failed', 550], [2, 'delivered', 250]]);
        for (const a of delivered.attempt_log) assert.ok(a.duration_ms >= 0 && !Number.isNaN(Date.parse(a.attempted_at)));
      });
    });

  });
}
