// verifyWebhook against real deliveries: an endpoint registered through the SDK on a receiver on
// 127.0.0.1, a payment, and the POST the platform sends it checked as a receiver would; then
// against altered bodies, old timestamps, malformed headers and a secret rotation (two v1s).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eventually, startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { createPaymesh, verifyWebhook, WebhookVerificationError, type Paymesh } from '@paymesh/sdk';

interface Delivery {
  readonly raw: Buffer;
  readonly headers: IncomingHttpHeaders;
}

const refusedFor = (reason: string) => (error: unknown) => error instanceof WebhookVerificationError && error.reason === reason;

describe('webhook verification', () => {
  let platform: TestPlatform;
  let receiver: Server;
  let receiverUrl: string;
  const deliveries: Delivery[] = [];
  let user: SignedUpUser;
  let paymesh: Paymesh;
  let endpoint: { id: string; secret: string };

  before(async () => {
    platform = await startTestPlatform('pglite', { env: { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } });
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        deliveries.push({ raw: Buffer.concat(chunks), headers: request.headers });
        response.writeHead(204).end();
      });
    });
    receiver.listen(0, '127.0.0.1');
    await once(receiver, 'listening');
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/paymesh-hook`;
    user = await platform.api.signUp();
    paymesh = createPaymesh({ baseUrl: platform.gatewayUrl, token: user.token });
    endpoint = await paymesh.post('/notifications/webhooks', { body: { url: receiverUrl, event_types: ['payment.succeeded'] } });
    assert.match(endpoint.secret, /^whsec_/);
  });
  after(async () => {
    await platform?.stop();
    receiver?.closeAllConnections();
    receiver?.close();
  });

  const nextDelivery = async (after: number) => {
    const payment = await paymesh.post('/payments', { body: { amount: 4, user_id: user.id } });
    await platform.settle();
    const delivery = await eventually(async () => deliveries.slice(after).find((d) => d.raw.includes(payment.payment.id)));
    return { delivery, paymentId: payment.payment.id as string };
  };

  test('a real delivery verifies with the endpoint\'s secret, and the event comes back parsed', async () => {
    const { delivery, paymentId } = await nextDelivery(deliveries.length);
    const header = delivery.headers['paymesh-signature'] as string;
    const event = await verifyWebhook(delivery.raw, header, endpoint.secret);
    assert.equal(event.type, 'payment.succeeded');
    assert.equal(event.object, 'event');
    assert.equal(event.id, delivery.headers['paymesh-event-id']);
    assert.equal(event.data.payment_id, paymentId);
    assert.equal(event.data.user_id, user.id);
    // The raw body as text verifies too (a framework that hands over a string).
    await verifyWebhook(delivery.raw.toString('utf8'), header, endpoint.secret);
  });

  test('anything altered is refused with a reason: the body, the secret, the header; and so is a stale timestamp', async () => {
    const { delivery } = await nextDelivery(deliveries.length);
    const header = delivery.headers['paymesh-signature'] as string;
    const altered = Buffer.from(delivery.raw.toString('utf8').replace('"amount":"400"', '"amount":"40000"'));
    assert.notDeepEqual(altered, delivery.raw);
    await assert.rejects(verifyWebhook(altered, header, endpoint.secret), refusedFor('signature_mismatch'));
    await assert.rejects(verifyWebhook(delivery.raw, header, 'whsec_someone-elses'), refusedFor('signature_mismatch'));
    await assert.rejects(verifyWebhook(delivery.raw, undefined, endpoint.secret), refusedFor('signature_header_missing'));
    for (const malformed of ['v1=abc', 't=1', 't=,v1=' + 'a'.repeat(64), 't=1,t=2,v1=' + 'a'.repeat(64), 'nonsense', 't=0x10,v1=' + 'a'.repeat(64)]) {
      await assert.rejects(verifyWebhook(delivery.raw, malformed, endpoint.secret), refusedFor('signature_header_malformed'), malformed);
    }
    // Replayed later than the tolerance (the clock is the receiver's, injected here), or from the future.
    const signedAt = Number(/t=(\d+)/.exec(header)![1]) * 1000;
    await verifyWebhook(delivery.raw, header, endpoint.secret, { now: () => signedAt + 299_000 });
    await assert.rejects(verifyWebhook(delivery.raw, header, endpoint.secret, { now: () => signedAt + 301_000 }), refusedFor('timestamp_outside_tolerance'));
    await assert.rejects(verifyWebhook(delivery.raw, header, endpoint.secret, { now: () => signedAt - 301_000 }), refusedFor('timestamp_outside_tolerance'));
    await verifyWebhook(delivery.raw, header, endpoint.secret, { now: () => signedAt + 3_000_000, toleranceSeconds: 3600 });
    // The receiver's own mistakes are loud, not a quiet refusal.
    await assert.rejects(verifyWebhook(delivery.raw, header, ''), TypeError);
  });

  test('during a secret rotation each delivery carries two v1s: the old secret and the new one both verify', async () => {
    const rotated = await paymesh.post('/notifications/webhooks/{id}/rotate_secret', { params: { path: { id: endpoint.id } }, body: { expires_in: 3600 } });
    assert.notEqual(rotated.secret, endpoint.secret);
    const { delivery } = await nextDelivery(deliveries.length);
    const header = delivery.headers['paymesh-signature'] as string;
    assert.equal(header.match(/v1=/g)?.length, 2);
    for (const secret of [rotated.secret, endpoint.secret]) await verifyWebhook(delivery.raw, header, secret);
    await assert.rejects(verifyWebhook(delivery.raw, header, 'whsec_neither'), refusedFor('signature_mismatch'));
  });

  test('other schemes beside v1 are ignored, and a signed body that is not JSON is refused as such', async () => {
    const secret = 'whsec_local';
    const t = Math.floor(Date.now() / 1000);
    const sign = (body: string) => createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    const body = '{"id":"evt_1","object":"event","type":"payment.succeeded","created":1,"data":{}}';
    await verifyWebhook(body, `t=${t},v0=${'0'.repeat(64)},v2=whatever,v1=${sign(body)}`, secret);
    await assert.rejects(verifyWebhook('not json', `t=${t},v1=${sign('not json')}`, secret), refusedFor('body_not_json'));
  });
});
