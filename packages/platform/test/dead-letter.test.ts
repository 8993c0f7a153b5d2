// A consumer checks every event against its contract (admit-event.ts). What the contract does not
// admit, a payload of the wrong shape or a major version newer than the consumer knows, is
// dead-lettered: logged at error with its subject, id and first schema errors, counted in
// events_dead_lettered_total, acknowledged, never retried; the events after it are handled.
// In process always; on NATS JetStream too when CI gives TEST_NATS_URL.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { Type } from 'typebox';
import { openDatabase, queryRows, sql, type Database } from '../src/db/open-database.ts';
import { consume } from '../src/events/consume.ts';
import { consumeEvents } from '../src/events/consume-events.ts';
import { defineEvent } from '../src/events/define-event.ts';
import type { EventEnvelope, EventTransport, Subscription } from '../src/events/event.ts';
import { InProcessTransport } from '../src/events/in-process-transport.ts';
import { NatsTransport } from '../src/events/nats-transport.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics, type Metrics } from '../src/metrics.ts';
import { eventually } from './eventually.ts';

const platformMigrations = resolve(import.meta.dirname, '../migrations');
const natsUrl = process.env.TEST_NATS_URL;

const OrderPlaced = defineEvent({
  subject: 'orders.placed', version: 2, producer: 'test', description: 'An order was placed.',
  schema: Type.Object({ order_id: Type.String(), amount_minor: Type.String({ pattern: '^[0-9]+$' }) }),
});

const envelope = (data: unknown, version?: number): EventEnvelope => ({ id: randomUUID(), subject: OrderPlaced.subject, version, occurredAt: new Date().toISOString(), requestId: undefined, data });

const transports: { name: string; skip: string | false; open: (stream: string) => Promise<EventTransport> }[] = [
  { name: 'in process', skip: false, open: async () => new InProcessTransport() },
  {
    name: 'NATS JetStream',
    skip: natsUrl === undefined ? 'needs TEST_NATS_URL' : false,
    open: (stream) => NatsTransport.connect({ url: natsUrl!, stream, connectionName: 'dead-letter-test', logger: createLogger('test', 'silent') }),
  },
];

for (const backend of transports) {
  describe(`dead letters (${backend.name})`, { skip: backend.skip }, () => {
    let database: Database;
    let transport: EventTransport;
    let subscriptions: Subscription[] = [];
    let logs: Record<string, unknown>[];
    let metrics: Metrics;
    let handled: EventEnvelope[];
    let consumer: string;

    let stream: string;

    before(async () => {
      database = await openDatabase({ url: undefined, dataDir: 'memory://', migrations: [{ scope: 'platform', dir: platformMigrations }], logger: createLogger('test', 'silent') });
    });
    after(async () => {
      await database?.close();
    });

    // A stream and a consumer of its own per test: on NATS a new durable would otherwise start
    // with the events of the tests before it.
    beforeEach(async () => {
      stream = `T${randomBytes(5).toString('hex').toUpperCase()}`;
      transport = await backend.open(stream);
      logs = [];
      metrics = createMetrics('test');
      handled = [];
      consumer = `dead-letter-${randomBytes(4).toString('hex')}`;
      const logger = createLogger('test', 'info', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
      subscriptions = await consumeEvents({ db: database.db, transport, logger, metrics, consumer }, [
        consume(OrderPlaced, async (_tx, event) => void handled.push(event)),
      ]);
    });

    afterEach(async () => {
      for (const subscription of subscriptions) await subscription.stop();
      if (transport instanceof NatsTransport) await transport.destroyStream();
      await transport.close();
    });

    const deadLetters = () => logs.filter((line) => line.msg !== undefined && String(line.msg).startsWith('event dead-lettered'));
    const counted = async (reason: string) =>
      (await metrics.eventsDeadLettered.get()).values.find((v) => v.labels.consumer === consumer && v.labels.subject === OrderPlaced.subject && v.labels.reason === reason)?.value ?? 0;

    /** On NATS, what the durable consumer still holds: nothing waiting for an ack, nothing redelivered. */
    async function assertNothingOutstanding(delivered: number): Promise<void> {
      if (!(transport instanceof NatsTransport)) return;
      const nc = await connect({ servers: natsUrl! });
      try {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.consumers.info(stream, `${consumer}__orders_2eplaced`);
        assert.equal(info.delivered.consumer_seq, delivered, 'each event delivered once');
        assert.equal(info.num_ack_pending, 0, 'the dead letter was acknowledged');
        assert.equal(info.num_redelivered, 0, 'the dead letter was not retried');
      } finally {
        await nc.close();
      }
    }

    test('a payload its contract does not admit is dead-lettered (logged with subject, id and schema errors, counted, acknowledged) and the next good event is handled', async () => {
      const malformed = envelope({ order_id: 42, amount_minor: '1,000' }, 2);
      const good = envelope({ order_id: 'ord_1', amount_minor: '1000' }, 2);
      await transport.publish(malformed);
      await transport.publish(good);
      await eventually(async () => (handled.length === 1 ? true : undefined), { timeoutMs: 10_000, what: 'the good event handled' });
      assert.deepEqual(handled.map((e) => e.id), [good.id], 'the malformed event never reached the handler');
      assert.deepEqual(handled[0]!.data, { order_id: 'ord_1', amount_minor: '1000' });

      const [letter, ...more] = deadLetters();
      assert.equal(more.length, 0);
      assert.equal(letter!.level, 50, 'logged at error');
      assert.equal(letter!.eventId, malformed.id);
      assert.equal(letter!.subject, 'orders.placed');
      assert.equal(letter!.consumer, consumer);
      const errors = letter!.errors as string[];
      assert.ok(errors.length >= 1 && errors.length <= 3, `the first errors only: ${JSON.stringify(errors)}`);
      assert.ok(errors.some((e) => e.startsWith('/order_id')), `names the field: ${JSON.stringify(errors)}`);
      assert.equal(await counted('schema'), 1);
      // Not recorded as handled: a corrected producer may send it again under the same id.
      assert.deepEqual(await queryRows(database.db, sql`select event_id from inbox where consumer = ${consumer}`), [{ event_id: good.id }]);
      await assertNothingOutstanding(2);
    });

    test('a major version newer than the consumer knows is dead-lettered the same way; its own version, an older one and an event without one are handled', async () => {
      const newer = envelope({ order_id: 'ord_3', amount_minor: '300' }, 3);
      const own = envelope({ order_id: 'ord_2', amount_minor: '200' }, 2);
      const older = envelope({ order_id: 'ord_1', amount_minor: '100' }, 1);
      const unversioned = envelope({ order_id: 'ord_0', amount_minor: '50' });
      for (const event of [newer, own, older, unversioned]) await transport.publish(event);
      await eventually(async () => (handled.length === 3 ? true : undefined), { timeoutMs: 10_000, what: 'the known versions handled' });
      assert.deepEqual(handled.map((e) => e.id), [own.id, older.id, unversioned.id]);
      const [letter, ...more] = deadLetters();
      assert.equal(more.length, 0);
      assert.equal(letter!.level, 50);
      assert.equal(letter!.eventId, newer.id);
      assert.equal(letter!.subject, 'orders.placed');
      assert.equal(letter!.version, 3);
      assert.equal(letter!.known, 2);
      assert.equal(await counted('version'), 1);
      assert.equal(await counted('schema'), 0);
      await assertNothingOutstanding(4);
    });
  });
}
