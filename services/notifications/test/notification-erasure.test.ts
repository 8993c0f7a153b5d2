// Notifications through the gateway, against a real database and a real SMTP exchange with an
// in-process sink: erasure: what is removed with a deleted user, and what is kept. The platform and
// helpers the suites share are in email-harness.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { addressOf, emailSuite } from './email-harness.ts';

for (const backend of backends()) {
  describe(`notifications: email, preferences, account messages and erasure (${backend})`, () => {
    const suite = emailSuite(backend);
    const { signUp, send, pay, mailsTo, mailTo, deliveries, delivery, count } = suite;

    describe('erasure', () => {
      test("a deleted user's notifications, preferences, devices and webhook endpoints are erased, and their queued emails die unsent with no content", async () => {
        const olga = await signUp();
        const keeper = await signUp();
        // something to erase in every table, and the same for a user who stays
        for (const user of [olga, keeper]) {
          assert.equal((await send({ user_id: user.id, message: 'to be erased' })).status, 201);
          assert.equal((await suite.platform.api.call('PATCH', '/notifications/preferences', { token: user.token, json: { 'refund.succeeded': { push: false } } })).status, 200);
          const device = await suite.platform.api.call('POST', '/notifications/devices', { token: user.token, json: { platform: 'android', device_token: `fcm-${randomBytes(12).toString('hex')}` } });
          assert.equal(device.status, 201, JSON.stringify(device.body));
          const endpoint = await suite.platform.api.call('POST', '/notifications/webhooks', { token: user.token, json: { url: `${suite.receiver.url}/${user.id}`, event_types: ['payment.succeeded'] } });
          assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
        }
        // one email delivered (its content is erased too), one refused by a server that quoted the
        // address, and one still being tried
        await pay(olga, '31.00');
        await mailTo(olga, (m) => m.text.includes('$31.00'));
        suite.sink.behaviour.set(addressOf(olga), { code: 550 });
        await pay(olga, '33.00');
        const refused = await eventually(async () => (await deliveries(olga, '?channel=email&status=dead'))[0], { timeoutMs: 5_000 });
        assert.ok(refused.last_error!.includes(addressOf(olga)));
        // The server holds its answer: the user is deleted while the attempt is under way.
        suite.sink.behaviour.set(addressOf(olga), { code: 451, delayMs: 1_500 });
        await pay(olga, '32.00');
        const pending = await eventually(async () => (await deliveries(olga, '?channel=email&status=pending')).find((d) => d.attempts >= 1), { timeoutMs: 5_000 });

        const deleted = await suite.platform.api.call('DELETE', `/users/${olga.id}`, { token: olga.token });
        assert.equal(deleted.status, 204);
        const id = String(olga.id);
        const remaining = async (userId: string) => ({
          notifications: await count(sql`select count(*)::int as n from notifications where recipient_id = ${userId}`),
          inboxHeads: await count(sql`select count(*)::int as n from inbox_heads where recipient_id = ${userId}`),
          preferences: await count(sql`select count(*)::int as n from preferences where user_id = ${userId}`),
          devices: await count(sql`select count(*)::int as n from devices where user_id = ${userId}`),
          webhookEndpoints: await count(sql`select count(*)::int as n from webhook_endpoints where owner_id = ${userId}`),
          deliveriesWithContent: await count(sql`select count(*)::int as n from deliveries where recipient_id = ${userId} and payload is not null`),
        });
        await eventually(async () => ((await remaining(id)).notifications === 0 ? true : undefined), { timeoutMs: 5_000 });
        assert.deepEqual(await remaining(id), { notifications: 0, inboxHeads: 0, preferences: 0, devices: 0, webhookEndpoints: 0, deliveriesWithContent: 0 });
        const queued = async () => (await queryRows<{ status: string; payload: unknown; last_error: string; attempts: number }>(suite.db, sql`
          select status, payload, last_error, attempts from deliveries where id = ${pending.id}`))[0]!;
        assert.deepEqual(await queued(), { status: 'canceled', payload: null, last_error: 'recipient deleted', attempts: 1 });
        assert.equal(await count(sql`select count(*)::int as n from deliveries where recipient_id = ${id} and status = 'pending'`), 0);
        // the attempt under way is logged when it ends, and does not bring the delivery back
        await eventually(async () => ((await count(sql`select count(*)::int as n from delivery_attempts where delivery_id = ${pending.id}`)) === 1 ? true : undefined), { timeoutMs: 5_000 });
        await suite.platform.settle();
        assert.deepEqual(await queued(), { status: 'canceled', payload: null, last_error: 'recipient deleted', attempts: 1 });
        suite.sink.behaviour.delete(addressOf(olga));
        assert.ok(!mailsTo(olga).some((m) => m.raw.includes('$32.00')));
        // the delivery log stays (outcomes and status codes), without a word that names them
        const [log] = await queryRows<{ outcome: string; status_code: number; error: string | null }>(suite.db, sql`select outcome, status_code, error from delivery_attempts where delivery_id = ${refused.id}`);
        assert.deepEqual({ ...log }, { outcome: 'failed', status_code: 550, error: null });
        const address = `%${addressOf(olga)}%`;
        assert.equal(await count(sql`select count(*)::int as n from deliveries where last_error like ${address} or payload::text like ${address}`), 0);
        assert.equal(await count(sql`select count(*)::int as n from delivery_attempts where error like ${address} or response like ${address}`), 0);

        // erasure sticks: an admin's message or a late event for them records nothing
        const late = await send({ user_id: olga.id, message: 'are you still there?' });
        assert.equal(late.status, 404);
        assert.equal(late.body.error.code, 'recipient_not_found');
        assert.deepEqual(await remaining(id), { notifications: 0, inboxHeads: 0, preferences: 0, devices: 0, webhookEndpoints: 0, deliveriesWithContent: 0 });

        // the user who stays keeps everything
        const kept = await remaining(String(keeper.id));
        assert.equal(kept.notifications, 1);
        assert.equal(kept.preferences, 1);
        assert.equal(kept.devices, 1);
        assert.equal(kept.webhookEndpoints, 1);
      });
    });
  });
}
