// Webhooks over NATS between processes: a payment's event crosses the broker and the notifications
// process delivers it (webhook-harness.ts holds what the suites share).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, startDistributedTestPlatform, testDatabaseUrl, testNatsUrl, type TestPlatform } from '@paymesh/app/testing';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { verifyWebhookSignature } from '../src/webhooks/webhook-signature.ts';
import { client, env, Receiver, signature, sleep } from './webhook-harness.ts';

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
