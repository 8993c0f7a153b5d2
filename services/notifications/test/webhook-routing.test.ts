// Webhooks through the gateway, against receivers on loopback: who receives which events: a payment's event once, by event type, custom types, all_users endpoints, replayed and concurrent sends.
// The receiver, the client and the platform every webhook suite shares are in webhook-harness.ts.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { newWebhookSecret, verifyWebhookSignature } from '../src/webhooks/webhook-signature.ts';
import { attempts, client, Receiver, signature, sleep, v1Count, webhookSuite } from './webhook-harness.ts';

for (const backend of backends()) {
  describe(`notifications: webhooks, routing (${backend})`, () => {
    const suite = webhookSuite(backend);
    const c = client(() => suite.platform);

    test("a payment's event reaches the payer's endpoint once, signed with the endpoint's secret over the raw body", async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start();
      const endpoint = await c.endpoint(user.token, receiver.url, ['payment.succeeded'], { description: 'orders backend' });
      assert.match(endpoint.id, /^we_/);
      assert.match(endpoint.secret, /^whsec_/);
      assert.equal(endpoint.status, 'enabled');
      const deliveredCount = () => suite.metric('notification_delivery_attempts_total', { channel: 'webhook', outcome: 'delivered' });
      const latencyCount = () => suite.metric('notification_delivery_latency_seconds_count', { channel: 'webhook' });
      const [deliveredBefore, latencyBefore] = [await deliveredCount(), await latencyCount()];
      const paymentId = await c.pay(user, 12.5);

      const [got] = await eventually(async () => (receiver.received.length > 0 ? receiver.received : undefined), { timeoutMs: 5_000 });
      assert.ok(verifyWebhookSignature(signature(got!), got!.raw, endpoint.secret), 'verifies with the secret from creation');
      assert.ok(!verifyWebhookSignature(signature(got!), got!.raw, newWebhookSecret()), 'and not with another secret');
      assert.equal(v1Count(got!), 1);
      assert.match(got!.body.id, /^evt_/);
      assert.equal(got!.headers['paymesh-event-id'], got!.body.id);
      assert.equal(got!.headers['content-type'], 'application/json');
      assert.equal(got!.body.object, 'event');
      assert.equal(got!.body.type, 'payment.succeeded');
      assert.equal(got!.body.data.user_id, user.id);
      assert.equal(got!.body.data.payment_id, paymentId);
      assert.equal(got!.body.data.amount, '1250');
      assert.equal(got!.body.data.message, 'Payment of $12.50 received.');
      const notification = (await suite.platform.api.call('GET', '/notifications', { token: user.token })).body.find((n: { data: { payment_id?: string } }) => n.data.payment_id === paymentId);
      assert.equal(got!.body.data.notification_id, notification.id);

      const delivered = await c.settled(user.token, endpoint.id, 'delivered');
      assert.match(delivered.id, /^dlv_/);
      assert.equal(delivered.object, 'delivery');
      assert.equal(delivered.channel, 'webhook');
      assert.equal(delivered.type, 'payment.succeeded');
      assert.equal(delivered.webhook_endpoint_id, endpoint.id);
      assert.equal(delivered.recipient_id, user.id);
      assert.equal(delivered.notification_id, notification.id);
      assert.equal(delivered.attempts, 1);
      assert.equal(delivered.last_error, null);
      assert.equal(delivered.next_attempt_at, null);
      assert.notEqual(delivered.delivered_at, null);
      await suite.platform.settle();
      assert.equal(receiver.received.length, 1, 'sent once');
      assert.equal(await deliveredCount(), deliveredBefore + 1);
      assert.equal(await latencyCount(), latencyBefore + 1);
    });

    test("an endpoint receives only its event types: never another type, never a secret type even with '*', nothing while disabled", async () => {
      const user = await suite.platform.api.signUp();
      const [failedOnly, everything, disabled] = await Promise.all([Receiver.start(), Receiver.start(), Receiver.start()]);
      const failedEndpoint = await c.endpoint(user.token, failedOnly.url, ['payment.failed']);
      const starEndpoint = await c.endpoint(user.token, everything.url, ['*']);
      const disabledEndpoint = await c.endpoint(user.token, disabled.url, ['payment.succeeded', 'message']);
      const patched = await suite.platform.api.call('PATCH', `/notifications/webhooks/${disabledEndpoint.id}`, { token: user.token, json: { disabled: true } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.status, 'disabled');
      assert.equal(patched.body.secret, undefined, 'the secret is shown at creation and rotation only');

      const paymentId = await c.pay(user);
      await eventually(async () => everything.withData('payment_id', paymentId)[0], { timeoutMs: 5_000 });
      assert.equal((await c.settled(user.token, starEndpoint.id, 'delivered')).type, 'payment.succeeded');
      // The deliveries of one message are recorded together: the others would exist by now.
      assert.deepEqual((await c.endpointDeliveries(user.token, failedEndpoint.id)).body.data, []);
      assert.deepEqual((await c.endpointDeliveries(user.token, disabledEndpoint.id)).body.data, []);

      // Secret types go by email only: '*' and all_users endpoints do not get them.
      const service = await suite.serviceToken();
      const adminReceiver = await Receiver.start();
      const allUsers = await c.endpoint(suite.adminToken, adminReceiver.url, ['*'], { all_users: true });
      try {
        for (const type of ['account.password_reset', 'account.verify_email']) {
          // (Registration sent this user a verification email already.)
          const before = await suite.count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(user.id)} and type = ${type} and channel = 'email'`);
          const sent = await c.send(service, user.id, { type, message: 'Reset your password', data: { action_url: 'https://paymesh.example/reset?token=secret-token' } });
          assert.equal(sent.status, 202, JSON.stringify(sent.body));
          assert.equal(await suite.count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(user.id)} and type = ${type} and channel = 'email'`), before + 1, 'the message itself was recorded');
          assert.equal(await suite.count(sql`select count(*)::int as n from deliveries where type = ${type} and channel = 'webhook'`), 0);
        }
        // A non-secret security message is an event like any other.
        const login = await c.send(service, user.id, { type: 'security.new_login', message: 'New sign-in from Firefox' });
        assert.equal(login.status, 201);
        const loginEvent = await eventually(async () => everything.of('security.new_login')[0], { timeoutMs: 5_000 });
        await eventually(async () => adminReceiver.received.find((r) => r.body.id === loginEvent.body.id), { timeoutMs: 5_000 });
        await suite.platform.settle();
        for (const r of [...everything.received, ...adminReceiver.received]) assert.ok(!r.body.type.startsWith('account.'), r.body.type);
        assert.equal(JSON.stringify(everything.received.map((r) => r.body)).includes('secret-token'), false);
      } finally {
        assert.equal((await suite.platform.api.call('DELETE', `/notifications/webhooks/${allUsers.id}`, { token: suite.adminToken })).status, 204);
      }
      assert.equal(failedOnly.received.length, 0);
      assert.equal(disabled.received.length, 0);

      // Enabled again, it receives what comes next (and nothing of what it missed).
      assert.equal((await suite.platform.api.call('PATCH', `/notifications/webhooks/${disabledEndpoint.id}`, { token: user.token, json: { disabled: false } })).body.status, 'enabled');
      const later = await c.pay(user);
      await eventually(async () => disabled.withData('payment_id', later)[0], { timeoutMs: 5_000 });
      assert.deepEqual(disabled.received.map((r) => r.body.data.payment_id), [later]);
    });

    test('a custom type sent by an admin reaches endpoints subscribed to "message", under its own type', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start();
      await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(suite.adminToken, user.id, { type: 'promo.spring_sale' })).status, 201);
      const got = await eventually(async () => receiver.received[0], { timeoutMs: 5_000 });
      assert.equal(got.body.type, 'promo.spring_sale');
      assert.equal(got.body.data.user_id, user.id);
    });

    test("an all_users endpoint stops (disabled) when its owner stops being an admin: demoted or disabled", async () => {
      const endpointsOf = async (ownerId: number) => queryRows<{ disabled: boolean; all_users: boolean }>(suite.db, sql`select disabled, all_users from webhook_endpoints where owner_id = ${String(ownerId)} order by created_at`);
      for (const change of [{ role: 'user' }, { status: 'disabled' }]) {
        const carol = await suite.platform.api.signUp();
        assert.equal((await suite.platform.api.call('PATCH', `/users/${carol.id}`, { token: suite.adminToken, json: { role: 'admin' } })).status, 200);
        // A token of the promotion's own second still says `user`: sign in after it.
        await sleep(1_010 - (Date.now() % 1_000));
        const carolAdmin = await suite.platform.api.login(carol.username, carol.password);
        const receiver = await Receiver.start();
        await c.endpoint(carolAdmin, receiver.url, ['*']);
        await c.endpoint(carolAdmin, receiver.url, ['*'], { all_users: true });
        assert.equal((await suite.platform.api.call('PATCH', `/users/${carol.id}`, { token: suite.adminToken, json: change })).status, 200);
        await eventually(async () => ((await endpointsOf(carol.id)).some((e) => e.all_users && e.disabled) ? true : undefined), { timeoutMs: 5_000 });
        assert.deepEqual((await endpointsOf(carol.id)).map((e) => [e.all_users, e.disabled]), [[false, false], [true, true]], `${JSON.stringify(change)}: only the all_users endpoint stops`);
      }
    });

    test("an admin's all_users endpoint receives every user's events, with the same event id as the user's endpoint; a user cannot ask for all_users", async () => {
      const alice = await suite.platform.api.signUp();
      const bob = await suite.platform.api.signUp();
      const [aliceReceiver, adminReceiver] = await Promise.all([Receiver.start(), Receiver.start()]);
      await c.endpoint(alice.token, aliceReceiver.url, ['payment.succeeded']);

      const before = await suite.count(sql`select count(*)::int as n from webhook_endpoints`);
      for (const token of [alice.token, bob.token]) {
        const refused = await c.createEndpoint(token, { url: adminReceiver.url, event_types: ['*'], all_users: true });
        assert.equal(refused.status, 403);
        assert.equal(refused.body.error.param, 'all_users');
      }
      assert.equal(await suite.count(sql`select count(*)::int as n from webhook_endpoints`), before);

      const allUsers = await c.endpoint(suite.adminToken, adminReceiver.url, ['payment.succeeded'], { all_users: true });
      assert.equal(allUsers.all_users, true);
      try {
        const [alicePayment, bobPayment] = [await c.pay(alice), await c.pay(bob)];
        const atAdmin = await eventually(async () => {
          const a = adminReceiver.withData('payment_id', alicePayment)[0];
          const b = adminReceiver.withData('payment_id', bobPayment)[0];
          return a !== undefined && b !== undefined ? [a, b] : undefined;
        }, { timeoutMs: 5_000 });
        assert.deepEqual(atAdmin.map((r) => r.body.data.user_id), [alice.id, bob.id]);
        for (const r of atAdmin) assert.ok(verifyWebhookSignature(signature(r), r.raw, allUsers.secret));
        const atAlice = await eventually(async () => aliceReceiver.withData('payment_id', alicePayment)[0], { timeoutMs: 5_000 });
        assert.equal(atAlice.body.id, atAdmin[0]!.body.id, 'one event, one id, at every endpoint');
        assert.equal(atAlice.raw.toString(), atAdmin[0]!.raw.toString());
        assert.equal(aliceReceiver.withData('payment_id', bobPayment).length, 0, "bob's event never reaches alice's endpoint");
        // The admin's deliveries of alice's event are the admin's to see, not alice's.
        await c.settled(suite.adminToken, allUsers.id, 'delivered');
        const aliceSees = (await c.deliveries(alice.token, '?channel=webhook&limit=100')).body.data;
        assert.ok(aliceSees.every((d: { webhook_endpoint_id: string }) => d.webhook_endpoint_id !== allUsers.id));
      } finally {
        assert.equal((await suite.platform.api.call('DELETE', `/notifications/webhooks/${allUsers.id}`, { token: suite.adminToken })).status, 204);
      }
    });

    test('a redelivered payment event makes no second webhook delivery', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start();
      const endpoint = await c.endpoint(user.token, receiver.url, ['payment.succeeded']);
      const paymentId = `pay_${randomBytes(8).toString('hex')}`;
      const event: EventEnvelope = {
        id: randomUUID(),
        subject: 'payment.succeeded',
        occurredAt: new Date().toISOString(),
        requestId: undefined,
        // A whole payment.succeeded as payments publishes it: the consumer checks it against the contract.
        data: { payment_id: paymentId, user_id: user.id, status: 'succeeded', amount_minor: '500', amount_received: '500', amount_refunded: '0', currency: 'USD', amount_display: '$5.00', payment_method_type: 'card' },
      };
      const transport = suite.platform.embedded!.services.notifications.runtime.transport;
      await transport.publish(event);
      await Promise.allSettled([transport.publish(event), transport.publish(event)]);
      await transport.publish({ ...event, occurredAt: new Date().toISOString() });
      await eventually(async () => receiver.withData('payment_id', paymentId)[0], { timeoutMs: 5_000 });
      await c.settled(user.token, endpoint.id, 'delivered');
      await suite.platform.settle();
      assert.equal(receiver.withData('payment_id', paymentId).length, 1);
      assert.equal(await suite.count(sql`select count(*)::int as n from deliveries d join notifications n on n.id = d.notification_id
        where d.channel = 'webhook' and n.data->>'payment_id' = ${paymentId}`), 1);
      assert.equal((await c.endpointDeliveries(user.token, endpoint.id)).body.data.length, 1);
    });

    test('20 messages sent at once reach the endpoint as 20 distinct events, each exactly once', async () => {
      const user = await suite.platform.api.signUp();
      // A slow receiver keeps attempts overlapping while the worker is kicked by every commit.
      const receiver = await Receiver.start(() => ({ status: 200, delayMs: 30 }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => c.send(suite.adminToken, user.id, { message: `burst ${i}` })));
      assert.deepEqual(sent.map((s) => s.status), Array(20).fill(201));
      await eventually(async () => (receiver.received.length >= 20 ? true : undefined), { timeoutMs: 20_000 });
      const list = await eventually(async () => {
        const page = (await c.endpointDeliveries(user.token, endpoint.id, '?limit=100')).body;
        return page.data.every((d: { status: string }) => d.status === 'delivered') ? page : undefined;
      }, { timeoutMs: 20_000 }); // a ceiling for a loaded machine, not a speed the test asks for
      await suite.platform.settle();
      assert.equal(receiver.received.length, 20, 'no event sent twice');
      assert.equal(new Set(receiver.received.map((r) => r.body.id)).size, 20);
      assert.deepEqual(new Set(receiver.received.map((r) => r.body.data.notification_id)), new Set(sent.map((s) => s.body.id)));
      assert.equal(list.data.length, 20);
      assert.equal(list.has_more, false);
      assert.ok(list.data.every((d: { attempts: number }) => d.attempts === 1));
      // Pages of 7 walk the same 20, each once, newest first.
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const body = (await c.endpointDeliveries(user.token, endpoint.id, `?limit=7${cursor === undefined ? '' : `&starting_after=${cursor}`}`)).body;
        seen.push(...body.data.map((d: { id: string }) => d.id));
        if (!body.has_more) break;
        cursor = body.data.at(-1).id;
      }
      assert.deepEqual(seen, list.data.map((d: { id: string }) => d.id));
    });
  });
}
