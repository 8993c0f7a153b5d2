// Webhooks through the gateway, against receivers on loopback: retries, Retry-After, time limits, the dead-letter state, redelivery and cancellation.
// The receiver, the client and the platform every webhook suite shares are in webhook-harness.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { sql } from '@paymesh/platform/db/open-database';
import { verifyWebhookSignature } from '../src/webhooks/webhook-signature.ts';
import { attempts, client, Receiver, signature, signedAtSec, sleep, webhookSuite } from './webhook-harness.ts';

for (const backend of backends()) {
  describe(`notifications: webhooks, retries (${backend})`, () => {
    const suite = webhookSuite(backend);
    const c = client(() => suite.platform);

    test('a failing endpoint is retried with the same event id and a fresh signature until it answers 2xx; the attempt log shows each answer', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start((n) => (n < 2 ? { status: 500, body: `boom ${n}` } : { status: 200, body: 'thanks, got it' }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      const sent = await c.send(suite.adminToken, user.id);
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
      const user = await suite.platform.api.signUp();
      let healthy = false;
      const receiver = await Receiver.start(() => (healthy ? { status: 204 } : { status: 503, body: 'down for maintenance' }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      const dead = () => suite.metric('notification_deliveries', { channel: 'webhook', status: 'dead' });
      const retries = () => suite.metric('notification_delivery_attempts_total', { channel: 'webhook', outcome: 'retry' });
      const [deadBefore, retriesBefore] = [await dead(), await retries()];
      assert.equal((await c.send(suite.adminToken, user.id)).status, 201);

      const given = await c.settled(user.token, endpoint.id, 'dead', 10_000);
      assert.equal(given.attempts, attempts);
      assert.equal(given.last_error, 'HTTP 503');
      assert.equal(given.next_attempt_at, null);
      assert.equal(given.delivered_at, null);
      const log = (await c.delivery(user.token, given.id)).body.attempt_log;
      assert.deepEqual(log.map((a: any) => [a.outcome, a.status_code, a.response]), Array(attempts).fill(['retry', 503, 'down for maintenance']));
      await suite.platform.settle();
      assert.equal(receiver.received.length, attempts, 'no attempt after the last');
      assert.deepEqual((await c.endpointDeliveries(user.token, endpoint.id, '?status=dead')).body.data.map((d: { id: string }) => d.id), [given.id]);
      assert.deepEqual((await c.endpointDeliveries(user.token, endpoint.id, '?status=delivered')).body.data, []);
      assert.equal(await dead(), deadBefore + 1);
      assert.equal(await dead(), await suite.count(sql`select count(*)::int as n from deliveries where channel = 'webhook' and status = 'dead'`));
      assert.ok(await retries() >= retriesBefore + attempts);

      // The receiver is fixed; its owner asks for the dead delivery again.
      healthy = true;
      const redelivered = await suite.platform.api.call('POST', `/notifications/deliveries/${given.id}/redeliver`, { token: user.token });
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
      const user = await suite.platform.api.signUp();
      let failing = false;
      const receiver = await Receiver.start(() => (failing ? { status: 500, body: 'broken deploy' } : { status: 200 }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(suite.adminToken, user.id)).status, 201);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered');
      failing = true;
      assert.equal((await suite.platform.api.call('POST', `/notifications/deliveries/${delivered.id}/redeliver`, { token: user.token })).status, 202);
      const dead = await c.settled(user.token, endpoint.id, 'dead');
      assert.equal(dead.attempts, 2);
      assert.equal(dead.last_error, 'HTTP 500');
      await sleep(1_500); // longer than the schedule's delay after a second attempt
      assert.equal(receiver.received.length, 2);
      assert.deepEqual((await c.delivery(user.token, dead.id)).body.attempt_log.map((a: any) => a.outcome), ['delivered', 'retry']);
      assert.equal((await c.delivery(user.token, dead.id)).body.status, 'dead');
    });

    test('a response body holding a NUL byte is recorded like any other, so the event is not sent again', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start(() => ({ status: 200, body: 'ok\u0000bye' }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(suite.adminToken, user.id)).status, 201);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered', 3_000);
      assert.equal(delivered.attempts, 1);
      assert.equal((await c.delivery(user.token, delivered.id)).body.attempt_log[0].response, 'ok\uFFFDbye');
      assert.equal(receiver.received.length, 1);
    });

    test('a receiver that does not answer within the time limit is cut off and tried again with the same event', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start((n) => (n === 0 ? { status: 200, delayMs: 3_000 } : { status: 200, body: 'quick now' }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(suite.adminToken, user.id)).status, 201);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered', 8_000);
      const log = (await c.delivery(user.token, delivered.id)).body.attempt_log;
      assert.deepEqual(log.map((a: any) => [a.outcome, a.status_code, a.error, a.response]), [['retry', null, 'no response within 2000 ms', null], ['delivered', 200, null, 'quick now']]);
      assert.ok(log[0].duration_ms >= 1_900, String(log[0].duration_ms));
      assert.equal(new Set(receiver.received.map((r) => r.body.id)).size, 1, 'the receiver drops the second copy by its id');
    });

    test('429 with Retry-After: 1 makes the next attempt wait at least a second, longer than the schedule\'s 200 ms', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : { status: 200 }));
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      assert.equal((await c.send(suite.adminToken, user.id)).status, 201);
      const delivered = await c.settled(user.token, endpoint.id, 'delivered', 8_000);
      const log = (await c.delivery(user.token, delivered.id)).body.attempt_log;
      assert.deepEqual(log.map((a: any) => [a.outcome, a.status_code]), [['retry', 429], ['delivered', 200]]);
      assert.ok(Date.parse(log[1].attempted_at) - Date.parse(log[0].attempted_at) >= 950, JSON.stringify(log));
      assert.ok(receiver.received[1]!.atMs - receiver.received[0]!.atMs >= 900);
    });

    test('a delivery whose endpoint was deleted or disabled meanwhile is canceled (not dead-lettered) at its next attempt, without a request', async () => {
      const user = await suite.platform.api.signUp();
      // Retry-After leaves a second for the owner's changes before the next attempt.
      const receiver = await Receiver.start(() => ({ status: 503, headers: { 'retry-after': '1' } }));
      const [gone, off] = [await c.endpoint(user.token, receiver.url, ['message']), await c.endpoint(user.token, receiver.url, ['message'])];
      assert.equal((await c.send(suite.adminToken, user.id)).status, 201);
      await eventually(async () => (receiver.received.length === 2 ? true : undefined), { timeoutMs: 5_000 });
      assert.equal((await suite.platform.api.call('DELETE', `/notifications/webhooks/${gone.id}`, { token: user.token })).status, 204);
      assert.equal((await suite.platform.api.call('PATCH', `/notifications/webhooks/${off.id}`, { token: user.token, json: { disabled: true } })).status, 200);
      const [goneDead, offDead] = await eventually(async () => {
        const list = (await c.deliveries(suite.adminToken, `?recipient_id=${user.id}&channel=webhook&status=canceled`)).body.data;
        return list.length === 2 ? [list.find((d: any) => d.webhook_endpoint_id === gone.id), list.find((d: any) => d.webhook_endpoint_id === off.id)] : undefined;
      }, { timeoutMs: 5_000 });
      assert.equal(goneDead.attempts, 2);
      assert.equal(goneDead.last_error, 'webhook endpoint was deleted');
      assert.equal(offDead.attempts, 2);
      assert.equal(offDead.last_error, 'webhook endpoint is disabled');
      assert.equal(receiver.received.length, 2, 'only the first attempts reached the receiver');
      assert.deepEqual((await c.delivery(suite.adminToken, goneDead.id)).body.attempt_log.map((a: any) => a.outcome), ['retry', 'canceled']);
      assert.equal((await c.deliveries(user.token, `?channel=webhook`)).body.data.some((d: any) => d.id === goneDead.id), false, "a deleted endpoint's deliveries are no longer its former owner's to see");
    });
  });
}
