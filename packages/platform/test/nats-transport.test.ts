// The distributed transport against a real nats-server 2.9 with JetStream (CI gives TEST_NATS_URL):
// server-side dedupe by event id, redelivery of what a handler refused, work shared among the
// replicas of a durable consumer, and broadcast with replay. Each run has its own stream, deleted
// at the end.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { newEvent, type EventEnvelope, type Subscription } from '../src/events/event.ts';
import { NatsTransport } from '../src/events/nats-transport.ts';
import { createLogger } from '../src/logger.ts';
import { closedPort } from './closed-port.ts';
import { eventually, sleep } from './eventually.ts';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

const natsUrl = process.env.TEST_NATS_URL;
const logger = createLogger('test', 'silent');
const stream = `T${randomBytes(5).toString('hex').toUpperCase()}`;

test('connecting to a NATS server that is not there fails at once instead of hanging', async () => {
  const port = await closedPort();
  const startedAt = Date.now();
  await assert.rejects(NatsTransport.connect({ url: `nats://127.0.0.1:${port}`, stream, connectionName: 'test-unreachable', logger }));
  assert.ok(Date.now() - startedAt < 5_000);
});

describeOrSkip('NATS JetStream transport', natsUrl === undefined ? 'needs TEST_NATS_URL' : false, () => {
  const url = natsUrl ?? '';
  const opened: NatsTransport[] = [];
  let transport: NatsTransport;

  async function open(connectionName: string, streamName = stream): Promise<NatsTransport> {
    const t = await NatsTransport.connect({ url, stream: streamName, connectionName, logger, ackWaitMs: 5_000 });
    opened.push(t);
    return t;
  }

  /** Subscribes and records every event the handler sees, in order. */
  function recorder(fail: (event: EventEnvelope, seen: number) => boolean = () => false) {
    const seen: EventEnvelope[] = [];
    const handler = async (event: EventEnvelope) => {
      seen.push(event);
      if (fail(event, seen.filter((e) => e.id === event.id).length)) throw new Error('handler refused (injected)');
    };
    return { seen, handler, count: (id: string) => seen.filter((e) => e.id === id).length };
  }

  before(async () => {
    transport = await open('test-main');
  });

  after(async () => {
    try {
      await transport?.destroyStream();
    } finally {
      for (const t of opened) await t.close();
    }
  });

  test('ping answers while the server and the stream are there', async () => {
    await transport.ping();
  });

  test('ping fails once the stream is gone, so readiness reports it', async () => {
    const other = await open('test-ping', `${stream}P`);
    await other.ping();
    await other.destroyStream();
    await assert.rejects(other.ping());
  });

  test('the same event id published twice is delivered once (the server drops the duplicate)', async () => {
    const { seen, handler, count } = recorder();
    const subscription = await transport.consume('test-dedupe', 'dedupe.created', handler);
    try {
      const event = newEvent('dedupe.created', { n: 1 }, 'req-dedupe');
      await transport.publish(event);
      await transport.publish(event);
      await transport.publish({ ...event, data: { n: 'a replay with other data' } });
      const sentinel = newEvent('dedupe.created', { n: 2 }, undefined);
      await transport.publish(sentinel);
      await eventually(() => (count(sentinel.id) === 1 ? true : undefined), { what: 'sentinel delivered' });
      assert.equal(count(event.id), 1);
      assert.deepEqual(seen[0], JSON.parse(JSON.stringify(event)), 'the envelope arrives as published (requestId included)');
    } finally {
      await subscription.stop();
    }
  });

  test('a durable consumer whose handler throws gets the event again', async () => {
    const { handler, count } = recorder((_event, deliveries) => deliveries === 1);
    const subscription = await transport.consume('test-retry', 'retry.created', handler);
    try {
      const event = newEvent('retry.created', { n: 1 }, undefined);
      await transport.publish(event);
      await eventually(() => (count(event.id) === 2 ? true : undefined), { what: 'redelivery after the failure', timeoutMs: 5_000 });
      // Acknowledged the second time: a later event arrives and the first does not come back.
      const sentinel = newEvent('retry.created', { n: 2 }, undefined);
      await transport.publish(sentinel);
      await eventually(() => (count(sentinel.id) === 1 ? true : undefined), { what: 'sentinel delivered' });
      assert.equal(count(event.id), 2);
    } finally {
      await subscription.stop();
    }
  });

  test('replicas consuming under one name share the work: each event is handled once in total', async () => {
    const replica = await open('test-replica');
    const first = recorder();
    const second = recorder();
    const subscriptions = [
      await transport.consume('test-shared', 'shared.created', first.handler),
      await replica.consume('test-shared', 'shared.created', second.handler),
    ];
    try {
      const events = Array.from({ length: 40 }, (_, i) => newEvent('shared.created', { i }, undefined));
      await Promise.all(events.map((e) => transport.publish(e)));
      const total = () => first.seen.length + second.seen.length;
      await eventually(() => (total() >= events.length ? true : undefined), { what: 'every event handled' });
      await sleep(200); // room for a wrongful second delivery to show up
      const handled = [...first.seen, ...second.seen].map((e) => e.id);
      assert.equal(handled.length, events.length, 'no event handled twice');
      assert.deepEqual(new Set(handled), new Set(events.map((e) => e.id)));
    } finally {
      for (const s of subscriptions) await s.stop();
    }
  });

  test('consumers whose names differ only in punctuation stay separate: each receives every event', async () => {
    const dotted = recorder();
    const underscored = recorder();
    const subscriptions = [
      await transport.consume('audit.payments', 'collide.created', dotted.handler),
      await transport.consume('audit_payments', 'collide.created', underscored.handler),
    ];
    try {
      const events = Array.from({ length: 10 }, (_, i) => newEvent('collide.created', { i }, undefined));
      for (const e of events) await transport.publish(e);
      await eventually(() => (dotted.seen.length >= 10 && underscored.seen.length >= 10 ? true : undefined), { what: 'both consumers saw every event', timeoutMs: 2_000 });
    } finally {
      for (const s of subscriptions) await s.stop();
    }
  });

  test('a stopped durable consumer receives what was published meanwhile when it comes back', async () => {
    const earlier = recorder();
    let subscription: Subscription = await transport.consume('test-durable', 'durable.created', earlier.handler);
    const early = newEvent('durable.created', { n: 1 }, undefined);
    await transport.publish(early);
    await eventually(() => (earlier.count(early.id) === 1 ? true : undefined), { what: 'early event delivered' });
    await subscription.stop();

    const missed = newEvent('durable.created', { n: 2 }, undefined);
    await transport.publish(missed);
    await sleep(100);
    assert.equal(earlier.seen.length, 1, 'a stopped subscription receives nothing');

    const returned = recorder();
    subscription = await transport.consume('test-durable', 'durable.created', returned.handler);
    try {
      await eventually(() => (returned.count(missed.id) === 1 ? true : undefined), { what: 'missed event delivered on return' });
      assert.equal(returned.count(early.id), 0, 'an acknowledged event is not delivered again');
    } finally {
      await subscription.stop();
    }
  });

  test('a message nobody can parse is dropped and does not hold up the events behind it', async () => {
    const { handler, seen } = recorder();
    const subscription = await transport.consume('test-garbage', 'garbage.created', handler);
    const nc = await connect({ servers: url, name: 'test-raw-publisher' });
    try {
      await jetstream(nc).publish(`${stream.toLowerCase()}.garbage.created`, 'this is not json', { msgID: randomUUID() });
      const event = newEvent('garbage.created', { n: 1 }, undefined);
      await transport.publish(event);
      await eventually(() => (seen.some((e) => e.id === event.id) ? true : undefined), { what: 'event behind the garbage delivered' });
      assert.equal(seen.length, 1);
    } finally {
      await nc.close();
      await subscription.stop();
    }
  });

  test('a broadcast subscriber first replays the events published within replayMs, then follows new ones', async () => {
    const old = newEvent('revoked.token', { jti: 'old' }, undefined);
    await transport.publish(old);
    await transport.publish(newEvent('other.subject', { jti: 'not for this subscriber' }, undefined));
    const instances = [recorder(), recorder()];
    const subscriptions = [];
    for (const instance of instances) subscriptions.push(await transport.broadcast('revoked.token', instance.handler, { replayMs: 60_000 }));
    try {
      const fresh = newEvent('revoked.token', { jti: 'fresh' }, undefined);
      await transport.publish(fresh);
      for (const instance of instances) {
        await eventually(() => (instance.count(fresh.id) === 1 ? true : undefined), { what: 'fresh event broadcast' });
        assert.deepEqual(instance.seen.map((e) => e.id), [old.id, fresh.id], 'every instance sees every event of its subject, in order');
      }
    } finally {
      for (const s of subscriptions) await s.stop();
    }
  });

  test('a broadcast subscriber does not replay events older than replayMs', async () => {
    const stale = newEvent('stale.token', { jti: 'stale' }, undefined);
    await transport.publish(stale);
    await sleep(400);
    const { seen, handler, count } = recorder();
    const subscription = await transport.broadcast('stale.token', handler, { replayMs: 150 });
    try {
      const fresh = newEvent('stale.token', { jti: 'fresh' }, undefined);
      await transport.publish(fresh);
      await eventually(() => (count(fresh.id) === 1 ? true : undefined), { what: 'fresh event broadcast' });
      assert.deepEqual(seen.map((e) => e.id), [fresh.id]);
    } finally {
      await subscription.stop();
    }
  });
});
