// The event catalogue's AsyncAPI 3 document (docs/api/asyncapi.json): generated from every
// service's contracts and from what the running platform subscribes to, so it is exactly what
// the code does (`npm run api:documents` rewrites it); it passes the linter without an error;
// each subject has its producer's send and each consumer's receive; and the events the platform
// really publishes match the payload schemas it describes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lint, loadConfig } from '@redocly/openapi-core';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { backends, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { apiSnapshotText, asyncApiSnapshotPath, readAsyncApiDocument } from '@paymesh/app/testing/api-snapshot';
import * as paymentEvents from '@paymesh/payments/events';
import type { EventEnvelope } from '@paymesh/platform/events/event';

const root = resolve(import.meta.dirname, '..');

interface AsyncApi {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { action: 'send' | 'receive'; channel: { $ref: string } }>;
  components: { messages: Record<string, { name: string; payload: Record<string, unknown> }> };
}

describe('AsyncAPI document of the events', () => {
  let platform: TestPlatform;
  let document: AsyncApi;

  before(async () => {
    platform = await startTestPlatform(backends()[0]!);
    document = (await readAsyncApiDocument(platform)) as unknown as AsyncApi;
  });
  after(async () => {
    await platform?.stop();
  });

  test('docs/api/asyncapi.json is what the code generates (run `npm run api:documents` after changing an event contract or a consumer)', () => {
    assert.equal(apiSnapshotText(document), readFileSync(asyncApiSnapshotPath, 'utf8'), 'the events changed: run `npm run api:documents` and commit docs/api/asyncapi.json');
  });

  test('it passes the linter with the committed ruleset (redocly.yaml): no error', async () => {
    const config = await loadConfig({ configPath: resolve(root, 'redocly.yaml') });
    const problems = await lint({ ref: asyncApiSnapshotPath, config });
    assert.deepEqual(problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`), []);
  });

  test('each subject is sent by its producer alone, and received by the services that consume it', () => {
    const byChannel = new Map<string, string[]>();
    for (const [id, operation] of Object.entries(document.operations)) {
      const channel = operation.channel.$ref.replace('#/channels/', '');
      byChannel.set(channel, [...(byChannel.get(channel) ?? []), `${operation.action} ${id}`]);
    }
    for (const [channel, { address }] of Object.entries(document.channels)) {
      const sends = (byChannel.get(channel) ?? []).filter((o) => o.startsWith('send '));
      assert.equal(sends.length, 1, `${address}: ${sends.join(', ')}`);
    }
    const operations = Object.keys(document.operations);
    for (const expected of ['paymentsSendsPaymentSucceeded', 'notificationsReceivesPaymentSucceeded', 'usersSendsUserRegistered', 'paymentsReceivesUserRegistered', 'authReceivesUserPasswordChanged', 'authFollowsAuthTokenRevoked', 'usersFollowsAuthTokenRevoked', 'paymentsFollowsAuthTokenRevoked', 'notificationsFollowsAuthTokenRevoked', 'notificationsFollowsInboxChanged']) {
      assert.ok(operations.includes(expected), `${expected} is missing`);
    }
    assert.equal(document.channels.paymentSucceeded?.address, '{stream}.payment.succeeded');
  });

  test('the events a payment really publishes match the payload schemas the document gives them', async () => {
    const heard: EventEnvelope[] = [];
    const transport = platform.embedded!.services.payments.runtime.transport;
    const subjects = [paymentEvents.PaymentCreated.subject, paymentEvents.PaymentSucceeded.subject];
    const subscriptions = await Promise.all(subjects.map((subject) => transport.broadcast(subject, async (event) => void heard.push(event), { replayMs: 0, follower: 'asyncapi-test' })));
    try {
      const payer = await platform.api.signUp();
      const paid = await platform.api.call('POST', '/payments', { token: payer.token, json: { amount: 12.5, user_id: payer.id } });
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      await platform.settle();
    } finally {
      await Promise.all(subscriptions.map((s) => s.stop()));
    }
    assert.deepEqual([...new Set(heard.map((e) => e.subject))].sort(), [...subjects].sort());
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    for (const event of heard) {
      const message = Object.values(document.components.messages).find((m) => m.name === event.subject)!;
      const validate = ajv.compile(message.payload);
      // As it travels: JSON, without the trace context (a header on NATS).
      const { traceparent: _, ...body } = JSON.parse(JSON.stringify(event)) as EventEnvelope;
      assert.ok(validate(body), `${event.subject}: ${ajv.errorsText(validate.errors)}`);
    }
    // And a payload that breaks its contract is refused by the same schema.
    const succeeded = Object.values(document.components.messages).find((m) => m.name === 'payment.succeeded')!;
    const sample = heard.find((e) => e.subject === 'payment.succeeded')!;
    assert.equal(ajv.compile(succeeded.payload)({ ...sample, data: { ...(sample.data as object), amount_minor: 'a lot' } }), false);
  });
});
