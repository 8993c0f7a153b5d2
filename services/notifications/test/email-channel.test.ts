// Notifications through the gateway, against a real database and a real SMTP exchange with an
// in-process sink: the email channel: who gets which email through a real SMTP exchange, redelivery
// and replays, and another user's deliveries. The platform and helpers the suites share are in
// email-harness.ts.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import { addressOf, emailSuite } from './email-harness.ts';

for (const backend of backends()) {
  describe(`notifications: email, preferences, account messages and erasure (${backend})`, () => {
    const suite = emailSuite(backend);
    const { signUp, send, pay, mailsTo, mailTo, deliveries, delivery, inboxFor, count, notificationsForPayment, emailDeliveriesOf } = suite;

    describe('email', () => {
      test("a payment's notification reaches the payer by email through a real SMTP exchange, and its delivery is delivered", async () => {
        const alice = await signUp();
        const paymentId = await pay(alice, '42.10');
        const mail = await mailTo(alice, (m) => m.text.includes('$42.10'));
        assert.equal(mail.headers.get('subject'), 'Payment received');
        assert.equal(mail.headers.get('to'), addressOf(alice));
        assert.match(mail.text, /Payment of \$42\.10 received\./);
        assert.match(mail.html, /Payment of \$42\.10 received\./);
        assert.match(mail.html, /^<!DOCTYPE html>/);
        assert.equal(mailsTo(alice).length, 1);

        const notification = await eventually(() => inboxFor(alice, paymentId), { timeoutMs: 2_000 });
        const delivered = await eventually(async () => (await deliveries(alice, '?channel=email')).find((d) => d.status === 'delivered'), { timeoutMs: 2_000 });
        assert.equal(delivered.notification_id, notification.id);
        assert.equal(delivered.type, 'payment.succeeded');
        assert.equal(delivered.recipient_id, alice.id);
        assert.equal(delivered.attempts, 1);
        const detail = await delivery(alice, delivered.id);
        assert.equal(detail.status, 200);
        assert.deepEqual(detail.body.attempt_log.map((a: { outcome: string; status_code: number }) => [a.outcome, a.status_code]), [['delivered', 250]]);
        // The Message-ID names the delivery, so a retried send is recognisably the same message.
        assert.match(mail.headers.get('message-id') ?? '', new RegExp(`^<${delivered.id}@`));
      });

      test('emails sent together (their addresses asked of users in one look-up) each reach their own recipient with their own receipt; an unconfirmed address among them gets none', async () => {
        const confirmed = await Promise.all(Array.from({ length: 8 }, () => signUp()));
        // Signed up but never confirmed: a receipt would go to an address nobody has proven is theirs.
        const unconfirmed = await suite.platform.api.signUp();
        const payers = [...confirmed, unconfirmed];
        await Promise.all(payers.map((user, i) => pay(user, `7${i}.0${i}`)));
        for (const [i, user] of confirmed.entries()) {
          const mail = await mailTo(user, (m) => m.text.includes('Payment of'));
          assert.equal(mail.headers.get('to'), addressOf(user));
          assert.match(mail.text, new RegExp(`Payment of \\$7${i}\\.0${i} received\\.`));
        }
        const canceled = await eventually(async () => (await deliveries(unconfirmed, '?channel=email')).find((d) => d.status === 'canceled'), { timeoutMs: 5_000 });
        assert.match(canceled.last_error!, /not verified/);
        await suite.platform.settle();
        assert.deepEqual(confirmed.map((user) => mailsTo(user).length), Array(8).fill(1), 'one receipt each, none to another');
        assert.equal(mailsTo(unconfirmed).length, 0);
      });

      test('a delivered email cannot be redelivered (409 delivery_already_delivered): it would reach the person twice', async () => {
        const ana = await signUp();
        await pay(ana, '3.30');
        await mailTo(ana, (m) => m.text.includes('$3.30'));
        const delivered = await eventually(async () => (await deliveries(ana, '?channel=email')).find((d) => d.status === 'delivered'), { timeoutMs: 2_000 });
        const again = await suite.platform.api.call('POST', `/notifications/deliveries/${delivered.id}/redeliver`, { token: ana.token });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'delivery_already_delivered');
        await suite.platform.settle();
        assert.equal(mailsTo(ana).length, 1);
        assert.equal((await delivery(ana, delivered.id)).body.attempts, 1);
      });

      test('a redelivered payment event creates no second notification and no second email', async () => {
        const dave = await signUp();
        const paymentId = `pay_${randomBytes(8).toString('hex')}`;
        const event: EventEnvelope = {
          id: randomUUID(),
          subject: 'payment.succeeded',
          occurredAt: new Date().toISOString(),
          requestId: undefined,
          // A whole payment.succeeded as payments publishes it: the consumer checks it against the contract.
          data: { payment_id: paymentId, user_id: dave.id, status: 'succeeded', amount_minor: '777', amount_received: '777', amount_refunded: '0', currency: 'USD', amount_display: '$7.77', payment_method_type: 'card' },
        };
        const transport = suite.platform.embedded!.services.notifications.runtime.transport;
        await transport.publish(event);
        await transport.publish(event);
        await transport.publish({ ...event, occurredAt: new Date().toISOString() });
        await mailTo(dave, (m) => m.text.includes('$7.77'));
        await suite.platform.settle();
        assert.equal(mailsTo(dave).length, 1);
        assert.equal(await notificationsForPayment(paymentId), 1);
        assert.equal(await emailDeliveriesOf(dave), 1);
        const [row] = await queryRows<{ id: string }>(suite.db, sql`select id from notifications where data->>'payment_id' = ${paymentId}`);
        assert.equal(await count(sql`select count(*)::int as n from deliveries where notification_id = ${row!.id}`), 1);
      });

      test("another user cannot see or redeliver someone's email delivery (404), nor list it", async () => {
        const owner = await signUp();
        const other = await signUp();
        await pay(owner, '3.00');
        await pay(other, '4.00');
        const [owned] = await eventually(async () => {
          const list = await deliveries(owner, '?channel=email&status=delivered');
          return list.length === 1 ? list : undefined;
        });
        const unknown = await delivery(other, `dlv_${randomBytes(12).toString('hex')}`);
        assert.equal(unknown.status, 404);
        const foreign = await delivery(other, owned!.id);
        assert.equal(foreign.status, 404);
        assert.equal(foreign.body.error.code, 'delivery_not_found');
        assert.deepEqual(foreign.body, unknown.body);
        const redeliver = await suite.platform.api.call('POST', `/notifications/deliveries/${owned!.id}/redeliver`, { token: other.token });
        assert.equal(redeliver.status, 404);
        assert.equal(redeliver.body.error.code, 'delivery_not_found');
        await suite.platform.settle();
        assert.equal(mailsTo(owner).length, 1, 'the foreign redeliver sent nothing');
        const untouched = (await delivery(owner, owned!.id)).body;
        assert.equal(untouched.status, 'delivered');
        assert.equal(untouched.attempt_log.length, 1);

        for (const query of ['', '?channel=email', `?recipient_id=${owner.id}`, `?channel=email&recipient_id=${owner.id}`]) {
          const listed = await deliveries(other, query);
          assert.ok(listed.every((d) => d.recipient_id === other.id), query);
          assert.ok(!listed.some((d) => d.id === owned!.id), query);
        }
        const cursor = await suite.platform.api.call('GET', `/notifications/deliveries?starting_after=${owned!.id}`, { token: other.token });
        assert.equal(cursor.status, 400);
        assert.equal(cursor.body.error.param, 'starting_after');
        // the owner does see it, and an admin sees everyone's
        assert.equal((await delivery(owner, owned!.id)).status, 200);
        assert.equal((await suite.platform.api.call('GET', `/notifications/deliveries/${owned!.id}`, { token: suite.adminToken })).status, 200);
      });
    });

  });
}
