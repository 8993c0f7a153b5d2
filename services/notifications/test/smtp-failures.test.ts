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

      test('attempts that end together are each recorded with their own outcome: accepted, refused for now and refused for good in one burst', async () => {
        const users = await Promise.all(Array.from({ length: 6 }, () => signUp()));
        const codes = [undefined, undefined, 451, 451, 553, 553];
        users.forEach((user, i) => {
          if (codes[i] !== undefined) suite.sink.behaviour.set(addressOf(user), { code: codes[i]! });
        });
        await Promise.all(users.map((user, i) => pay(user, `3${i}.00`)));
        const firsts = await Promise.all(users.map((user) => eventually(async () => {
          const [email] = await deliveries(user, '?channel=email');
          return email !== undefined && email.attempts >= 1 && (email.status !== 'pending' || email.last_error !== null) ? email : undefined;
        }, { timeoutMs: 5_000 })));
        // Refused for now: pending until the schedule runs out (1 s, 1 s here), then dead.
        assert.deepEqual(firsts.map((d) => (d.status === 'dead' && d.attempts === 3 ? 'pending' : d.status)), ['delivered', 'delivered', 'pending', 'pending', 'dead', 'dead']);
        for (const [i, user] of users.entries()) {
          const found = (await delivery(user, firsts[i]!.id)).body;
          const first = found.attempt_log[0];
          assert.equal(found.recipient_id, user.id);
          assert.deepEqual([first.attempt, first.outcome, first.status_code], [1, ['delivered', 'delivered', 'retry', 'retry', 'failed', 'failed'][i], codes[i] ?? 250]);
          if (codes[i] === undefined) assert.equal(found.last_error, null);
          else assert.match(found.last_error, new RegExp(String(codes[i])));
        }
        assert.deepEqual(users.map((user) => mailsTo(user).length), [1, 1, 0, 0, 0, 0]);
        for (const user of users) suite.sink.behaviour.delete(addressOf(user));
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
