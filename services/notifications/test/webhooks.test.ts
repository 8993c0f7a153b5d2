// Webhooks and delivery records through the gateway, against receivers on loopback: who receives
// which events, signed how; what a user may see and touch of endpoints and deliveries; retries,
// Retry-After, the dead-letter state and redelivery; secret rotation; the URL guard at registration
// and at send time; replayed events and concurrent sends; and the same over NATS between processes.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { backends, eventually, serviceClientsEnv, startDistributedTestPlatform, startTestPlatform, testDatabaseUrl, testNatsUrl, type Backend, type TestEnv, type TestPlatform } from '@paymesh/app/testing';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { newWebhookSecret, verifyWebhookSignature } from '../src/webhooks/webhook-signature.ts';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

// A service client secret this test knows, to send what only services may send.
const paymentsServiceSecret = randomBytes(32).toString('base64url');
const otherSecrets = { users: randomBytes(32).toString('base64url'), notifications: randomBytes(32).toString('base64url') };
// Given to every platform this file starts (and to the processes of the distributed one).
// Receivers listen on 127.0.0.1, so private targets are allowed except in the suite that checks
// the guard. 200 ms then 1 s: three attempts in all, the first and the last at least 1.2 s (so a
// signed second) apart. Each attempt is cut off after 2 s.
const env: TestEnv = {
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
  NOTIFICATIONS_RETRY_DELAYS: '200ms,1s',
  NOTIFICATIONS_DELIVERY_TIMEOUT_MS: '2000',
  EMAIL_OUTBOX_DIR: mkdtempSync(join(tmpdir(), 'paymesh-webhooks-mail-')),
  ...serviceClientsEnv({ ...otherSecrets, payments: paymentsServiceSecret }),
};

const attempts = 3; // 1 + the two delays above

type User = { id: number; token: string };

interface Received {
  readonly raw: Buffer;
  readonly body: any;
  readonly headers: IncomingHttpHeaders;
  readonly atMs: number;
}

interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly delayMs?: number;
}

/** A customer's webhook endpoint on loopback: keeps every request with its raw body, answers as told. */
class Receiver {
  readonly received: Received[] = [];
  /** The answer to the nth request (from 0). */
  answer: (n: number) => Answer = () => ({ status: 200, body: 'ok' });
  readonly #server: Server;
  readonly url: string;

  private constructor(server: Server) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/paymesh`;
  }

  static async start(answer?: (n: number) => Answer): Promise<Receiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new Receiver(server);
    if (answer !== undefined) receiver.answer = answer;
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const n = receiver.received.length;
        receiver.received.push({ raw, body: JSON.parse(raw.toString('utf8')), headers: req.headers, atMs: Date.now() });
        const answer = receiver.answer(n);
        setTimeout(() => res.writeHead(answer.status, answer.headers).end(answer.body ?? ''), answer.delayMs ?? 0);
      });
    });
    receivers.push(receiver);
    return receiver;
  }

  of(type: string): Received[] {
    return this.received.filter((r) => r.body.type === type);
  }

  withData(key: string, value: unknown): Received[] {
    return this.received.filter((r) => r.body.data[key] === value);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const receivers: Receiver[] = [];
after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

const signature = (r: Received) => r.headers['paymesh-signature'] as string;
const v1Count = (r: Received) => signature(r).split(',').filter((part) => part.startsWith('v1=')).length;
const signedAtSec = (r: Received) => Number(/^t=(\d+),/.exec(signature(r))![1]);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a suite needs to talk to one platform. */
function client(platform: () => TestPlatform) {
  const api = () => platform().api;
  return {
    createEndpoint: (token: string, body: Record<string, unknown>) => api().call('POST', '/notifications/webhooks', { token, json: body }),
    /** Creates an endpoint that must be accepted; returns it with its secret. */
    async endpoint(token: string, url: string, eventTypes: string[] = ['*'], extra: Record<string, unknown> = {}) {
      const created = await api().call('POST', '/notifications/webhooks', { token, json: { url, event_types: eventTypes, ...extra } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body as { id: string; secret: string; url: string; event_types: string[]; status: string; all_users: boolean };
    },
    /** POST /notifications as an admin or a service. */
    send: (token: string, userId: number, body: Record<string, unknown> = {}) =>
      api().call('POST', '/notifications', { token, json: { user_id: userId, message: `hello ${randomBytes(3).toString('hex')}`, ...body } }),
    async pay(user: User, amount = 12.5) {
      const paid = await api().call('POST', '/payments', { token: user.token, json: { amount, user_id: user.id } });
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      return paid.body.payment.id as string;
    },
    endpointDeliveries: (token: string, endpointId: string, query = '') => api().call('GET', `/notifications/webhooks/${endpointId}/deliveries${query}`, { token }),
    deliveries: (token: string, query = '') => api().call('GET', `/notifications/deliveries${query}`, { token }),
    delivery: (token: string, id: string) => api().call('GET', `/notifications/deliveries/${id}`, { token }),
    /** Polls the endpoint's delivery log until its newest delivery is in this status. */
    async settled(token: string, endpointId: string, status: 'delivered' | 'dead', timeoutMs = 8_000) {
      return eventually(async () => {
        const list = await api().call('GET', `/notifications/webhooks/${endpointId}/deliveries`, { token });
        assert.equal(list.status, 200);
        const newest = list.body.data[0];
        return newest?.status === status ? newest : undefined;
      }, { timeoutMs, intervalMs: 50 });
    },
  };
}

for (const backend of backends()) {
  describe(`notifications: webhooks and delivery records (${backend})`, () => {
    let platform: TestPlatform;
    let db: Db;
    let adminToken: string;
    const c = client(() => platform);
    const basic = `Basic ${Buffer.from(`payments-service:${paymentsServiceSecret}`).toString('base64')}`;
    const serviceToken = async () => {
      const issued = await platform.api.call('POST', '/auth/token', {
        headers: { authorization: basic },
        form: { grant_type: 'client_credentials', scope: 'notifications:write', resource: 'urn:paymesh:notifications' },
      });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      return issued.body.access_token as string;
    };
    /** A sample of the notifications service's metrics: the one named so whose labels include these (0 before the first). */
    const metric = async (name: string, labels: Record<string, string>) => {
      const text = await (await fetch(`http://127.0.0.1:${platform.embedded!.plan.metrics.notifications}/metrics`)).text();
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      const found = text.split('\n').find((line) => line.startsWith(`${name}{`) && wanted.every((l) => line.slice(0, line.indexOf('}')).includes(l)));
      return found === undefined ? 0 : Number(found.slice(found.lastIndexOf(' ') + 1));
    };
    const count = (query: ReturnType<typeof sql>) => countRows(db, query);

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      db = platform.embedded!.services.notifications.runtime.database.db;
      adminToken = await platform.api.adminToken();
    });
    after(async () => {
      await platform?.stop();
    });

    test("a payment's event reaches the payer's endpoint once, signed with the endpoint's secret over the raw body", async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start();
      const endpoint = await c.endpoint(user.token, receiver.url, ['payment.succeeded'], { description: 'orders backend' });
      assert.match(endpoint.id, /^we_/);
      assert.match(endpoint.secret, /^whsec_/);
      assert.equal(endpoint.status, 'enabled');
      const deliveredCount = () => metric('notification_delivery_attempts_total', { channel: 'webhook', outcome: 'delivered' });
      const latencyCount = () => metric('notification_delivery_latency_seconds_count', { channel: 'webhook' });
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
      const notification = (await platform.api.call('GET', '/notifications', { token: user.token })).body.find((n: { data: { payment_id?: string } }) => n.data.payment_id === paymentId);
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
      await sleep(300);
      assert.equal(receiver.received.length, 1, 'sent once');
      assert.equal(await deliveredCount(), deliveredBefore + 1);
      assert.equal(await latencyCount(), latencyBefore + 1);
    });

    test("an endpoint receives only its event types: never another type, never a secret type even with '*', nothing while disabled", async () => {
      const user = await platform.api.signUp();
      const [failedOnly, everything, disabled] = await Promise.all([Receiver.start(), Receiver.start(), Receiver.start()]);
      const failedEndpoint = await c.endpoint(user.token, failedOnly.url, ['payment.failed']);
      const starEndpoint = await c.endpoint(user.token, everything.url, ['*']);
      const disabledEndpoint = await c.endpoint(user.token, disabled.url, ['payment.succeeded', 'message']);
      const patched = await platform.api.call('PATCH', `/notifications/webhooks/${disabledEndpoint.id}`, { token: user.token, json: { disabled: true } });
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
      const service = await serviceToken();
      const adminReceiver = await Receiver.start();
      const allUsers = await c.endpoint(adminToken, adminReceiver.url, ['*'], { all_users: true });
      try {
        for (const type of ['account.password_reset', 'account.verify_email']) {
          // (Registration sent this user a verification email already.)
          const before = await count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(user.id)} and type = ${type} and channel = 'email'`);
          const sent = await c.send(service, user.id, { type, message: 'Reset your password', data: { action_url: 'https://paymesh.example/reset?token=secret-token' } });
          assert.equal(sent.status, 202, JSON.stringify(sent.body));
          assert.equal(await count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(user.id)} and type = ${type} and channel = 'email'`), before + 1, 'the message itself was recorded');
          assert.equal(await count(sql`select count(*)::int as n from deliveries where type = ${type} and channel = 'webhook'`), 0);
        }
        // A non-secret security message is an event like any other.
        const login = await c.send(service, user.id, { type: 'security.new_login', message: 'New sign-in from Firefox' });
        assert.equal(login.status, 201);
        const loginEvent = await eventually(async () => everything.of('security.new_login')[0], { timeoutMs: 5_000 });
        await eventually(async () => adminReceiver.received.find((r) => r.body.id === loginEvent.body.id), { timeoutMs: 5_000 });
        await sleep(200);
        for (const r of [...everything.received, ...adminReceiver.received]) assert.ok(!r.body.type.startsWith('account.'), r.body.type);
        assert.equal(JSON.stringify(everything.received.map((r) => r.body)).includes('secret-token'), false);
      } finally {
        assert.equal((await platform.api.call('DELETE', `/notifications/webhooks/${allUsers.id}`, { token: adminToken })).status, 204);
      }
      assert.equal(failedOnly.received.length, 0);
      assert.equal(disabled.received.length, 0);

      // Enabled again, it receives what comes next (and nothing of what it missed).
      assert.equal((await platform.api.call('PATCH', `/notifications/webhooks/${disabledEndpoint.id}`, { token: user.token, json: { disabled: false } })).body.status, 'enabled');
      const later = await c.pay(user);
      await eventually(async () => disabled.withData('payment_id', later)[0], { timeoutMs: 5_000 });
      assert.deepEqual(disabled.received.map((r) => r.body.data.payment_id), [later]);
    });

    test('a custom type sent by an admin reaches endpoints subscribed to "message", under its own type', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start();
      await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(adminToken, user.id, { type: 'promo.spring_sale' })).status, 201);
      const got = await eventually(async () => receiver.received[0], { timeoutMs: 5_000 });
      assert.equal(got.body.type, 'promo.spring_sale');
      assert.equal(got.body.data.user_id, user.id);
    });

    test("a user's endpoints and deliveries are their own: another user's ids are 404 everywhere, lists show only one's own", async () => {
      const alice = await platform.api.signUp();
      const bob = await platform.api.signUp();
      const [aliceReceiver, bobReceiver] = await Promise.all([Receiver.start(), Receiver.start()]);
      const aliceEndpoint = await c.endpoint(alice.token, aliceReceiver.url);
      const bobEndpoint = await c.endpoint(bob.token, bobReceiver.url);

      const alicePayment = await c.pay(alice);
      await eventually(async () => aliceReceiver.withData('payment_id', alicePayment)[0], { timeoutMs: 5_000 });
      const aliceDelivery = await c.settled(alice.token, aliceEndpoint.id, 'delivered');
      assert.deepEqual((await c.endpointDeliveries(bob.token, bobEndpoint.id)).body.data, [], "alice's event was recorded for no endpoint of bob's");

      // Every route on alice's endpoint answers bob as if it did not exist.
      const notFound = [
        await platform.api.call('GET', `/notifications/webhooks/${aliceEndpoint.id}`, { token: bob.token }),
        await platform.api.call('PATCH', `/notifications/webhooks/${aliceEndpoint.id}`, { token: bob.token, json: { url: bobReceiver.url } }),
        await platform.api.call('PATCH', `/notifications/webhooks/${aliceEndpoint.id}`, { token: bob.token, json: { disabled: true } }),
        await platform.api.call('POST', `/notifications/webhooks/${aliceEndpoint.id}/rotate_secret`, { token: bob.token, json: { expires_in: 0 } }),
        await platform.api.call('GET', `/notifications/webhooks/${aliceEndpoint.id}/deliveries`, { token: bob.token }),
        await platform.api.call('DELETE', `/notifications/webhooks/${aliceEndpoint.id}`, { token: bob.token }),
      ];
      const unknown = await platform.api.call('GET', '/notifications/webhooks/we_000000000000000000000000', { token: bob.token });
      for (const response of notFound) {
        assert.equal(response.status, 404);
        assert.equal(response.body.error.code, 'webhook_endpoint_not_found');
        assert.deepEqual(response.body, unknown.body, 'the same answer as for an id that does not exist');
      }
      const [stored] = await queryRows<{ url: string; disabled: boolean; secret: string }>(db, sql`select url, disabled, secret from webhook_endpoints where id = ${aliceEndpoint.id}`);
      assert.deepEqual(stored, { url: aliceReceiver.url, disabled: false, secret: aliceEndpoint.secret }, "alice's endpoint is untouched");

      // Lists: one's own endpoints only; deliveries to one's own endpoints only.
      assert.deepEqual((await platform.api.call('GET', '/notifications/webhooks', { token: bob.token })).body.data.map((e: { id: string }) => e.id), [bobEndpoint.id]);
      assert.deepEqual((await platform.api.call('GET', '/notifications/webhooks', { token: alice.token })).body.data.map((e: { id: string }) => e.id), [aliceEndpoint.id]);
      const bobPayment = await c.pay(bob);
      await eventually(async () => bobReceiver.withData('payment_id', bobPayment)[0], { timeoutMs: 5_000 });
      await c.settled(bob.token, bobEndpoint.id, 'delivered');
      for (const query of ['', '?channel=webhook', `?recipient_id=${alice.id}`, `?notification_id=${aliceDelivery.notification_id}`, '?status=delivered&limit=100']) {
        const list = await c.deliveries(bob.token, query);
        assert.equal(list.status, 200, query);
        for (const d of list.body.data) {
          assert.ok(d.channel === 'webhook' ? d.webhook_endpoint_id === bobEndpoint.id : d.recipient_id === bob.id, `${query}: ${JSON.stringify(d)}`);
        }
        assert.ok(!list.body.data.some((d: { id: string }) => d.id === aliceDelivery.id), query);
      }
      assert.equal((await c.deliveries(bob.token, `?starting_after=${aliceDelivery.id}`)).status, 400);

      // One delivery: invisible and not redeliverable; nothing is attempted.
      for (const [method, path] of [['GET', `/notifications/deliveries/${aliceDelivery.id}`], ['POST', `/notifications/deliveries/${aliceDelivery.id}/redeliver`]] as const) {
        const response = await platform.api.call(method, path, { token: bob.token });
        assert.equal(response.status, 404, path);
        assert.equal(response.body.error.code, 'delivery_not_found');
      }
      await sleep(200);
      assert.equal(aliceReceiver.withData('payment_id', alicePayment).length, 1);
      assert.equal((await c.delivery(alice.token, aliceDelivery.id)).body.attempts, 1);

      // An admin may look after anyone's endpoint; that does not make it theirs in their list.
      assert.equal((await platform.api.call('GET', `/notifications/webhooks/${aliceEndpoint.id}`, { token: adminToken })).status, 200);
      assert.equal((await c.delivery(adminToken, aliceDelivery.id)).status, 200);
      assert.ok(!(await platform.api.call('GET', '/notifications/webhooks', { token: adminToken })).body.data.some((e: { id: string }) => e.id === aliceEndpoint.id));
    });

    test("an all_users endpoint stops (disabled) when its owner stops being an admin: demoted or disabled", async () => {
      const endpointsOf = async (ownerId: number) => queryRows<{ disabled: boolean; all_users: boolean }>(db, sql`select disabled, all_users from webhook_endpoints where owner_id = ${String(ownerId)} order by created_at`);
      for (const change of [{ role: 'user' }, { status: 'disabled' }]) {
        const carol = await platform.api.signUp();
        assert.equal((await platform.api.call('PATCH', `/users/${carol.id}`, { token: adminToken, json: { role: 'admin' } })).status, 200);
        // A token of the promotion's own second still says `user`: sign in after it.
        await sleep(1_010 - (Date.now() % 1_000));
        const carolAdmin = await platform.api.login(carol.username, carol.password);
        const receiver = await Receiver.start();
        await c.endpoint(carolAdmin, receiver.url, ['*']);
        await c.endpoint(carolAdmin, receiver.url, ['*'], { all_users: true });
        assert.equal((await platform.api.call('PATCH', `/users/${carol.id}`, { token: adminToken, json: change })).status, 200);
        await eventually(async () => ((await endpointsOf(carol.id)).some((e) => e.all_users && e.disabled) ? true : undefined), { timeoutMs: 5_000 });
        assert.deepEqual((await endpointsOf(carol.id)).map((e) => [e.all_users, e.disabled]), [[false, false], [true, true]], `${JSON.stringify(change)}: only the all_users endpoint stops`);
      }
    });

    test("an admin's all_users endpoint receives every user's events, with the same event id as the user's endpoint; a user cannot ask for all_users", async () => {
      const alice = await platform.api.signUp();
      const bob = await platform.api.signUp();
      const [aliceReceiver, adminReceiver] = await Promise.all([Receiver.start(), Receiver.start()]);
      await c.endpoint(alice.token, aliceReceiver.url, ['payment.succeeded']);

      const before = await count(sql`select count(*)::int as n from webhook_endpoints`);
      for (const token of [alice.token, bob.token]) {
        const refused = await c.createEndpoint(token, { url: adminReceiver.url, event_types: ['*'], all_users: true });
        assert.equal(refused.status, 403);
        assert.equal(refused.body.error.param, 'all_users');
      }
      assert.equal(await count(sql`select count(*)::int as n from webhook_endpoints`), before);

      const allUsers = await c.endpoint(adminToken, adminReceiver.url, ['payment.succeeded'], { all_users: true });
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
        await c.settled(adminToken, allUsers.id, 'delivered');
        const aliceSees = (await c.deliveries(alice.token, '?channel=webhook&limit=100')).body.data;
        assert.ok(aliceSees.every((d: { webhook_endpoint_id: string }) => d.webhook_endpoint_id !== allUsers.id));
      } finally {
        assert.equal((await platform.api.call('DELETE', `/notifications/webhooks/${allUsers.id}`, { token: adminToken })).status, 204);
      }
    });

    test('a failing endpoint is retried with the same event id and a fresh signature until it answers 2xx; the attempt log shows each answer', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start((n) => (n < 2 ? { status: 500, body: `boom ${n}` } : { status: 200, body: 'thanks, got it' }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      const sent = await c.send(adminToken, user.id);
      assert.equal(sent.status, 201);

      const delivered = await c.settled(user.token, endpoint.id, 'delivered', 10_000);
      assert.equal(delivered.attempts, 3);
      assert.equal(delivered.last_error, null);
      const detail = (await c.delivery(user.token, delivered.id)).body;
      assert.deepEqual(detail.attempt_log.map((a: any) => [a.attempt, a.outcome, a.status_code, a.response]), [
        [1, 'retry', 500, 'boom 0'],
        [2, 'retry', 500, 'boom 1'],
        [3, 'delivered', 200, 'thanks, got it'],
      ]);
      assert.deepEqual(detail.attempt_log.map((a: any) => a.error), ['HTTP 500', 'HTTP 500', null]);
      for (const a of detail.attempt_log) assert.ok(Number.isInteger(a.duration_ms) && a.duration_ms >= 0);

      assert.equal(receiver.received.length, 3);
      const ids = receiver.received.map((r) => r.body.id);
      assert.deepEqual(new Set(ids), new Set([ids[0]]), 'the same event id every time');
      assert.ok(receiver.received.every((r) => r.headers['paymesh-event-id'] === ids[0]));
      assert.ok(receiver.received.every((r) => r.raw.equals(receiver.received[0]!.raw)), 'the same bytes every time');
      // Signed at each attempt: the timestamp is the attempt's (within a second of its arrival), so
      // a receiver's 300-second window never refuses a retry.
      for (const r of receiver.received) {
        assert.ok(Math.abs(signedAtSec(r) - r.atMs / 1000) <= 1.5, `t=${signedAtSec(r)} at ${r.atMs}`);
        assert.ok(verifyWebhookSignature(signature(r), r.raw, endpoint.secret, { toleranceSec: 2, nowSec: Math.floor(r.atMs / 1000) }));
      }
      assert.ok(signedAtSec(receiver.received[2]!) > signedAtSec(receiver.received[0]!), 'the third attempt carries a later timestamp than the first');
      assert.ok(receiver.received[1]!.atMs - receiver.received[0]!.atMs >= 150, 'the first delay was waited');
    });

    test('an endpoint that always fails is dead after every attempt of the schedule; the gauge counts it; redeliver makes one more attempt', async () => {
      const user = await platform.api.signUp();
      let healthy = false;
      const receiver = await Receiver.start(() => (healthy ? { status: 204 } : { status: 503, body: 'down for maintenance' }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      const dead = () => metric('notification_deliveries', { channel: 'webhook', status: 'dead' });
      const retries = () => metric('notification_delivery_attempts_total', { channel: 'webhook', outcome: 'retry' });
      const [deadBefore, retriesBefore] = [await dead(), await retries()];
      assert.equal((await c.send(adminToken, user.id)).status, 201);

      const given = await c.settled(user.token, endpoint.id, 'dead', 10_000);
      assert.equal(given.attempts, attempts);
      assert.equal(given.last_error, 'HTTP 503');
      assert.equal(given.next_attempt_at, null);
      assert.equal(given.delivered_at, null);
      const log = (await c.delivery(user.token, given.id)).body.attempt_log;
      assert.deepEqual(log.map((a: any) => [a.outcome, a.status_code, a.response]), Array(attempts).fill(['retry', 503, 'down for maintenance']));
      await sleep(300);
      assert.equal(receiver.received.length, attempts, 'no attempt after the last');
      assert.deepEqual((await c.endpointDeliveries(user.token, endpoint.id, '?status=dead')).body.data.map((d: { id: string }) => d.id), [given.id]);
      assert.deepEqual((await c.endpointDeliveries(user.token, endpoint.id, '?status=delivered')).body.data, []);
      assert.equal(await dead(), deadBefore + 1);
      assert.equal(await dead(), await count(sql`select count(*)::int as n from deliveries where channel = 'webhook' and status = 'dead'`));
      assert.ok(await retries() >= retriesBefore + attempts);

      // The receiver is fixed; its owner asks for the dead delivery again.
      healthy = true;
      const redelivered = await platform.api.call('POST', `/notifications/deliveries/${given.id}/redeliver`, { token: user.token });
      assert.equal(redelivered.status, 202);
      assert.equal(redelivered.body.id, given.id);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered');
      assert.equal(delivered.id, given.id);
      assert.equal(delivered.attempts, attempts + 1);
      assert.equal(receiver.received.length, attempts + 1);
      assert.equal(receiver.received.at(-1)!.body.id, receiver.received[0]!.body.id, 'the same event as before');
      assert.ok(verifyWebhookSignature(signature(receiver.received.at(-1)!), receiver.received.at(-1)!.raw, endpoint.secret));
      assert.equal((await c.delivery(user.token, given.id)).body.attempt_log.at(-1).outcome, 'delivered');
      assert.equal(await dead(), deadBefore);
    });

    test('a redelivery is one attempt: a delivered event resent to an endpoint that now fails is dead after it, and not retried', async () => {
      const user = await platform.api.signUp();
      let failing = false;
      const receiver = await Receiver.start(() => (failing ? { status: 500, body: 'broken deploy' } : { status: 200 }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(adminToken, user.id)).status, 201);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered');
      failing = true;
      assert.equal((await platform.api.call('POST', `/notifications/deliveries/${delivered.id}/redeliver`, { token: user.token })).status, 202);
      const dead = await c.settled(user.token, endpoint.id, 'dead');
      assert.equal(dead.attempts, 2);
      assert.equal(dead.last_error, 'HTTP 500');
      await sleep(1_500); // longer than the schedule's delay after a second attempt
      assert.equal(receiver.received.length, 2);
      assert.deepEqual((await c.delivery(user.token, dead.id)).body.attempt_log.map((a: any) => a.outcome), ['delivered', 'retry']);
      assert.equal((await c.delivery(user.token, dead.id)).body.status, 'dead');
    });

    test('a response body holding a NUL byte is recorded like any other, so the event is not sent again', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start(() => ({ status: 200, body: 'ok\u0000bye' }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(adminToken, user.id)).status, 201);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered', 3_000);
      assert.equal(delivered.attempts, 1);
      assert.equal((await c.delivery(user.token, delivered.id)).body.attempt_log[0].response, 'ok\uFFFDbye');
      assert.equal(receiver.received.length, 1);
    });

    test('a receiver that does not answer within the time limit is cut off and tried again with the same event', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start((n) => (n === 0 ? { status: 200, delayMs: 3_000 } : { status: 200, body: 'quick now' }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(adminToken, user.id)).status, 201);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered', 8_000);
      const log = (await c.delivery(user.token, delivered.id)).body.attempt_log;
      assert.deepEqual(log.map((a: any) => [a.outcome, a.status_code, a.error, a.response]), [['retry', null, 'no response within 2000 ms', null], ['delivered', 200, null, 'quick now']]);
      assert.ok(log[0].duration_ms >= 1_900, String(log[0].duration_ms));
      assert.equal(new Set(receiver.received.map((r) => r.body.id)).size, 1, 'the receiver drops the second copy by its id');
    });

    test('429 with Retry-After: 1 makes the next attempt wait at least a second, longer than the schedule\'s 200 ms', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : { status: 200 }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(adminToken, user.id)).status, 201);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered', 8_000);
      const log = (await c.delivery(user.token, delivered.id)).body.attempt_log;
      assert.deepEqual(log.map((a: any) => [a.outcome, a.status_code]), [['retry', 429], ['delivered', 200]]);
      assert.ok(Date.parse(log[1].attempted_at) - Date.parse(log[0].attempted_at) >= 950, JSON.stringify(log));
      assert.ok(receiver.received[1]!.atMs - receiver.received[0]!.atMs >= 900);
    });

    test('a delivery whose endpoint was deleted or disabled meanwhile is canceled (not dead-lettered) at its next attempt, without a request', async () => {
      const user = await platform.api.signUp();
      // Retry-After leaves a second for the owner's changes before the next attempt.
      const receiver = await Receiver.start(() => ({ status: 503, headers: { 'retry-after': '1' } }));
      const [gone, off] = [await c.endpoint(user.token, receiver.url, ['message']), await c.endpoint(user.token, receiver.url, ['message'])];
      assert.equal((await c.send(adminToken, user.id)).status, 201);
      await eventually(async () => (receiver.received.length === 2 ? true : undefined), { timeoutMs: 5_000 });
      assert.equal((await platform.api.call('DELETE', `/notifications/webhooks/${gone.id}`, { token: user.token })).status, 204);
      assert.equal((await platform.api.call('PATCH', `/notifications/webhooks/${off.id}`, { token: user.token, json: { disabled: true } })).status, 200);
      const [goneDead, offDead] = await eventually(async () => {
        const list = (await c.deliveries(adminToken, `?recipient_id=${user.id}&channel=webhook&status=canceled`)).body.data;
        return list.length === 2 ? [list.find((d: any) => d.webhook_endpoint_id === gone.id), list.find((d: any) => d.webhook_endpoint_id === off.id)] : undefined;
      }, { timeoutMs: 5_000 });
      assert.equal(goneDead.attempts, 2);
      assert.equal(goneDead.last_error, 'webhook endpoint was deleted');
      assert.equal(offDead.attempts, 2);
      assert.equal(offDead.last_error, 'webhook endpoint is disabled');
      assert.equal(receiver.received.length, 2, 'only the first attempts reached the receiver');
      assert.deepEqual((await c.delivery(adminToken, goneDead.id)).body.attempt_log.map((a: any) => a.outcome), ['retry', 'canceled']);
      assert.equal((await c.deliveries(user.token, `?channel=webhook`)).body.data.some((d: any) => d.id === goneDead.id), false, "a deleted endpoint's deliveries are no longer its former owner's to see");
    });

    test('during a rotation each delivery carries a v1 for the new and the previous secret; with no overlap only the new one signs', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start();
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      const deliver = async () => {
        const before = receiver.received.length;
        assert.equal((await c.send(adminToken, user.id)).status, 201);
        return eventually(async () => receiver.received[before], { timeoutMs: 5_000 });
      };

      const rotated = await platform.api.call('POST', `/notifications/webhooks/${endpoint.id}/rotate_secret`, { token: user.token, json: { expires_in: 3600 } });
      assert.equal(rotated.status, 200);
      assert.match(rotated.body.secret, /^whsec_/);
      assert.notEqual(rotated.body.secret, endpoint.secret);
      const expiresMs = Date.parse(rotated.body.previous_secret_expires_at);
      assert.ok(Math.abs(expiresMs - (Date.now() + 3_600_000)) < 60_000, rotated.body.previous_secret_expires_at);
      assert.equal((await platform.api.call('GET', `/notifications/webhooks/${endpoint.id}`, { token: user.token })).body.secret, undefined);

      const overlapping = await deliver();
      assert.equal(v1Count(overlapping), 2);
      assert.ok(verifyWebhookSignature(signature(overlapping), overlapping.raw, rotated.body.secret), 'verifies with the new secret');
      assert.ok(verifyWebhookSignature(signature(overlapping), overlapping.raw, endpoint.secret), 'and with the one from creation, alone');
      assert.ok(!verifyWebhookSignature(signature(overlapping), overlapping.raw, newWebhookSecret()));
      // The new secret's v1 comes first.
      const [, first] = signature(overlapping).split(',');
      assert.ok(verifyWebhookSignature(`t=${signedAtSec(overlapping)},${first}`, overlapping.raw, rotated.body.secret));

      const immediate = await platform.api.call('POST', `/notifications/webhooks/${endpoint.id}/rotate_secret`, { token: user.token, json: { expires_in: 0 } });
      assert.equal(immediate.status, 200);
      assert.equal(immediate.body.previous_secret_expires_at, null);
      const after = await deliver();
      assert.equal(v1Count(after), 1);
      assert.ok(verifyWebhookSignature(signature(after), after.raw, immediate.body.secret));
      assert.ok(!verifyWebhookSignature(signature(after), after.raw, rotated.body.secret));
      assert.ok(!verifyWebhookSignature(signature(after), after.raw, endpoint.secret));

      for (const body of [{ expires_in: -1 }, { expires_in: 8 * 86_400 }, { expires_in: '60' }, { expires_in: 1.5 }, { overlap: 60 }]) {
        const refused = await platform.api.call('POST', `/notifications/webhooks/${endpoint.id}/rotate_secret`, { token: user.token, json: body });
        assert.equal(refused.status, 400, JSON.stringify(body));
      }
      const [row] = await queryRows<{ secret: string }>(db, sql`select secret from webhook_endpoints where id = ${endpoint.id}`);
      assert.equal(row!.secret, immediate.body.secret, 'a refused rotation changes nothing');
    });

    test('a malformed endpoint is refused with 400 and a stable code, and nothing is stored', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start();
      const stored = () => count(sql`select count(*)::int as n from webhook_endpoints where owner_id = ${String(user.id)}`);
      const cases: [Record<string, unknown>, string, string][] = [
        [{ event_types: ['*'] }, 'parameter_missing', 'url'],
        [{ url: receiver.url }, 'parameter_missing', 'event_types'],
        [{ url: 'ftp://files.example.com/hook', event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: 'javascript:alert(1)', event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: 'not a url at all', event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: receiver.url.replace('http://', 'http://user:pass@'), event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: receiver.url.replace('http://', 'http://token@'), event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: `http://x/${'a'.repeat(2048)}`, event_types: ['*'] }, 'parameter_invalid', 'url'],
        [{ url: receiver.url, event_types: [] }, 'parameter_invalid', 'event_types'],
        [{ url: receiver.url, event_types: '*' }, 'parameter_invalid', 'event_types'],
        [{ url: receiver.url, event_types: ['payment.exploded'] }, 'event_type_unknown', 'event_types'],
        [{ url: receiver.url, event_types: ['payment.succeeded', 'admin.message'] }, 'event_type_unknown', 'event_types'],
        [{ url: receiver.url, event_types: ['account.password_reset'] }, 'event_type_unknown', 'event_types'],
        [{ url: receiver.url, event_types: ['account.verify_email'] }, 'event_type_unknown', 'event_types'],
        [{ url: receiver.url, event_types: ['*'], description: 'd'.repeat(501) }, 'parameter_invalid', 'description'],
        [{ url: receiver.url, event_types: ['*'], secret: 'whsec_chosen_by_me' }, 'parameter_unknown', 'secret'],
        [{ url: receiver.url, event_types: ['*'], all_users: 'yes' }, 'parameter_invalid', 'all_users'],
      ];
      for (const [body, code, param] of cases) {
        const response = await c.createEndpoint(user.token, body);
        const label = JSON.stringify(body).slice(0, 80);
        assert.equal(response.status, 400, label);
        assert.equal(response.body.error.code, code, label);
        assert.equal(response.body.error.param, param, label);
      }
      assert.equal(await stored(), 0);
      assert.equal((await c.createEndpoint(user.token, { url: receiver.url, event_types: ['*'] })).status, 201, 'the same user may still register a good one');

      const endpoint = (await platform.api.call('GET', '/notifications/webhooks', { token: user.token })).body.data[0];
      for (const [body, code] of [[{}, 'parameter_invalid'], [{ event_types: ['nope'] }, 'event_type_unknown'], [{ url: 'ftp://files.example.com/x' }, 'url_not_allowed'], [{ secret: 'x' }, 'parameter_unknown'], [{ disabled: 'true' }, 'parameter_invalid']] as const) {
        const response = await platform.api.call('PATCH', `/notifications/webhooks/${endpoint.id}`, { token: user.token, json: body });
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.equal(response.body.error.code, code, JSON.stringify(body));
      }
      assert.deepEqual((await platform.api.call('GET', `/notifications/webhooks/${endpoint.id}`, { token: user.token })).body, endpoint, 'unchanged');
      assert.equal((await platform.api.call('POST', '/notifications/webhooks', { json: { url: receiver.url, event_types: ['*'] } })).status, 401);
    });

    test('a user may hold 16 endpoints, even when 20 are created at once; the 17th is refused', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start();
      const responses = await Promise.all(Array.from({ length: 20 }, () => c.createEndpoint(user.token, { url: receiver.url, event_types: ['message'] })));
      assert.equal(responses.filter((r) => r.status === 201).length, 16);
      for (const r of responses.filter((r) => r.status !== 201)) {
        assert.equal(r.status, 400);
        assert.equal(r.body.error.code, 'too_many_webhook_endpoints');
      }
      assert.equal(await count(sql`select count(*)::int as n from webhook_endpoints where owner_id = ${String(user.id)}`), 16);
      const first = responses.find((r) => r.status === 201)!.body;
      assert.equal((await platform.api.call('DELETE', `/notifications/webhooks/${first.id}`, { token: user.token })).status, 204);
      assert.equal((await platform.api.call('DELETE', `/notifications/webhooks/${first.id}`, { token: user.token })).status, 404, 'deleted once');
      assert.equal((await c.createEndpoint(user.token, { url: receiver.url, event_types: ['message'] })).status, 201, 'room again after a delete');
    });

    test('a redelivered payment event makes no second webhook delivery', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start();
      const endpoint = await c.endpoint(user.token, receiver.url, ['payment.succeeded']);
      const paymentId = `pay_${randomBytes(8).toString('hex')}`;
      const event: EventEnvelope = {
        id: randomUUID(),
        subject: 'payment.succeeded',
        occurredAt: new Date().toISOString(),
        requestId: undefined,
        data: { payment_id: paymentId, user_id: user.id, amount_minor: '500', currency: 'USD', amount_display: '$5.00' },
      };
      const transport = platform.embedded!.services.notifications.runtime.transport;
      await transport.publish(event);
      await Promise.allSettled([transport.publish(event), transport.publish(event)]);
      await transport.publish({ ...event, occurredAt: new Date().toISOString() });
      await eventually(async () => receiver.withData('payment_id', paymentId)[0], { timeoutMs: 5_000 });
      await c.settled(user.token, endpoint.id, 'delivered');
      await sleep(300);
      assert.equal(receiver.withData('payment_id', paymentId).length, 1);
      assert.equal(await count(sql`select count(*)::int as n from deliveries d join notifications n on n.id = d.notification_id
        where d.channel = 'webhook' and n.data->>'payment_id' = ${paymentId}`), 1);
      assert.equal((await c.endpointDeliveries(user.token, endpoint.id)).body.data.length, 1);
    });

    test('20 messages sent at once reach the endpoint as 20 distinct events, each exactly once', async () => {
      const user = await platform.api.signUp();
      // A slow receiver keeps attempts overlapping while the worker is kicked by every commit.
      const receiver = await Receiver.start(() => ({ status: 200, delayMs: 30 }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      const sent = await Promise.all(Array.from({ length: 20 }, (_, i) => c.send(adminToken, user.id, { message: `burst ${i}` })));
      assert.deepEqual(sent.map((s) => s.status), Array(20).fill(201));
      await eventually(async () => (receiver.received.length >= 20 ? true : undefined), { timeoutMs: 10_000 });
      const list = await eventually(async () => {
        const page = (await c.endpointDeliveries(user.token, endpoint.id, '?limit=100')).body;
        return page.data.every((d: { status: string }) => d.status === 'delivered') ? page : undefined;
      }, { timeoutMs: 5_000 });
      await sleep(500);
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

// The guard does not depend on the database: one platform of its own is enough, on PostgreSQL
// when there is one (it starts in a few seconds where PGlite takes many more).
for (const backend of [backends().at(-1)!]) {
  describe(`notifications: webhook targets on private networks are refused (${backend}, WEBHOOKS_ALLOW_PRIVATE_NETWORKS=false)`, () => {
    let platform: TestPlatform;
    let db: Db;
    let adminToken: string;
    const c = client(() => platform);

    before(async () => {
      platform = await startPrivateNetworksClosed(backend);
      db = platform.embedded!.services.notifications.runtime.database.db;
      adminToken = await platform.api.adminToken();
    });
    after(async () => {
      await platform?.stop();
    });

    test('loopback, private, link-local and localhost URLs are refused at registration and on update, and nothing is stored', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start();
      const refused = [receiver.url, 'http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://localhost/', 'http://localhost:8080/x',
        'http://app.localhost/', 'http://[::1]/', 'http://0x7f000001/', 'http://192.168.1.10/hook', 'https://[::ffff:10.0.0.1]/'];
      for (const url of refused) {
        const response = await c.createEndpoint(user.token, { url, event_types: ['*'] });
        assert.equal(response.status, 400, url);
        assert.equal(response.body.error.code, 'url_not_allowed', url);
        assert.equal(response.body.error.param, 'url', url);
      }
      const owned = () => countRows(db, sql`select count(*)::int as n from webhook_endpoints where owner_id = ${String(user.id)}`);
      assert.equal(await owned(), 0);
      // A public literal address needs no lookup: it is allowed, but cannot be moved inside.
      const endpoint = await c.endpoint(user.token, 'https://93.184.216.34/hooks', ['message']);
      const moved = await platform.api.call('PATCH', `/notifications/webhooks/${endpoint.id}`, { token: user.token, json: { url: receiver.url } });
      assert.equal(moved.status, 400);
      assert.equal(moved.body.error.code, 'url_not_allowed');
      assert.equal((await queryRows<{ url: string }>(db, sql`select url from webhook_endpoints where id = ${endpoint.id}`))[0]!.url, 'https://93.184.216.34/hooks');
    });

    test('an endpoint whose target became private is dead at its first attempt, and the target is never called', async () => {
      const user = await platform.api.signUp();
      const receiver = await Receiver.start();
      const endpoint = await c.endpoint(user.token, 'https://93.184.216.34/hooks', ['message']);
      // What a changed DNS answer would do: the registered target now leads to loopback.
      await db.execute(sql`update webhook_endpoints set url = ${receiver.url} where id = ${endpoint.id}`);
      assert.equal((await c.send(adminToken, user.id)).status, 201);
      const dead = await c.settled(user.token, endpoint.id, 'dead', 5_000);
      assert.equal(dead.attempts, 1);
      assert.match(dead.last_error, /^target refused \(private_address\)/);
      assert.deepEqual((await c.delivery(user.token, dead.id)).body.attempt_log.map((a: any) => [a.outcome, a.status_code]), [['failed', null]]);
      assert.equal(receiver.received.length, 0);
    });
  });
}

/** A platform of its own with the guard on. */
function startPrivateNetworksClosed(backend: Backend): Promise<TestPlatform> {
  return startTestPlatform(backend, { env: { ...env, WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'false' } });
}

function countRows(db: Db, query: ReturnType<typeof sql>): Promise<number> {
  return queryRows<{ n: number }>(db, query).then((rows) => Number(rows[0]!.n));
}

describeOrSkip('notifications: webhooks, distributed (one process per service, PostgreSQL, NATS JetStream)', testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL (CI sets them)' : false, () => {
  let platform: TestPlatform;
  const c = client(() => platform);
  before(async () => {
    platform = await startDistributedTestPlatform({ env });
  });
  after(async () => {
    await platform?.stop();
  });

  test("a payment's event crosses NATS and the notifications process delivers it, signed, to the payer's endpoint", async () => {
    const user = await platform.api.signUp();
    const receiver = await Receiver.start();
    const endpoint = await c.endpoint(user.token, receiver.url, ['payment.succeeded']);
    const paymentId = await c.pay(user, 3);
    const got = await eventually(async () => receiver.withData('payment_id', paymentId)[0], { timeoutMs: 10_000 });
    assert.ok(verifyWebhookSignature(signature(got), got.raw, endpoint.secret));
    assert.equal(got.headers['paymesh-event-id'], got.body.id);
    assert.equal(got.body.type, 'payment.succeeded');
    assert.equal(got.body.data.user_id, user.id);
    assert.equal(got.body.data.amount, '300');
    const delivered = await c.settled(user.token, endpoint.id, 'delivered', 5_000);
    assert.equal(delivered.attempts, 1);
    await sleep(300);
    assert.equal(receiver.received.length, 1);
  });
});
