// The outbox and the inbox together promise effectively-once events: an event commits or rolls back
// with the change it announces, the relay keeps publishing until the transport accepts it, and a
// consumer applies a redelivered event once. Runs on PGlite always and on PostgreSQL when CI gives
// TEST_DATABASE_URL (a fresh database per run, dropped afterwards).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.ts';
import { openDatabase, queryRows, sql, type Database, type Db } from '../src/db/open-database.ts';
import { Type } from 'typebox';
import { consume } from '../src/events/consume.ts';
import { consumeEvents } from '../src/events/consume-events.ts';
import { defineEvent } from '../src/events/define-event.ts';
import { enqueue } from '../src/events/enqueue.ts';
import { newEvent, type EventEnvelope, type EventHandler, type EventTransport, type Subscription } from '../src/events/event.ts';
import { InProcessTransport } from '../src/events/in-process-transport.ts';
import { OutboxRelay } from '../src/events/outbox-relay.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { currentRequestId, requestContext } from '../src/request-context.ts';
import { eventually, sleep } from './eventually.ts';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

const logger = createLogger('test', 'silent');
const metrics = createMetrics('test');
const OrderPlaced = defineEvent({
  subject: 'orders.placed', version: 1, producer: 'test', description: 'An order was placed.',
  schema: Type.Object({ note: Type.String() }),
});
const platformMigrations = resolve(import.meta.dirname, '../migrations');
const testDatabaseUrl = process.env.TEST_DATABASE_URL;

/**
 * Fault injection around a real transport: the first `failures` publishes throw before reaching it,
 * and every publish that does reach it is counted by event id.
 */
class FailingFirstTransport implements EventTransport {
  readonly kind = 'in-process' as const;
  readonly inner: InProcessTransport;
  readonly published = new Map<string, number>();
  failuresLeft: number;
  refused = 0;

  constructor(inner: InProcessTransport, failures: number) {
    this.inner = inner;
    this.failuresLeft = failures;
  }

  async publish(event: EventEnvelope): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      this.refused++;
      throw new Error('transport unavailable (injected)');
    }
    await this.inner.publish(event);
    this.published.set(event.id, (this.published.get(event.id) ?? 0) + 1);
  }

  consume(consumer: string, subject: string, handler: EventHandler): Promise<Subscription> {
    return this.inner.consume(consumer, subject, handler);
  }

  broadcast(subject: string, handler: EventHandler, options: { replayMs: number }): Promise<Subscription> {
    return this.inner.broadcast(subject, handler, options);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

interface OutboxRow {
  id: string;
  published_at: unknown;
  attempts: number;
  last_error: string | null;
}

/**
 * A transport that hands events over as the NATS one does with the messages it holds: the test
 * calls `handler` for each, every call starting before the first one settles.
 */
function handingOverTransport(): { transport: EventTransport; handler: EventHandler } {
  let subscribed: EventHandler | undefined;
  const transport: EventTransport = {
    kind: 'in-process',
    publish: async () => undefined,
    consume: async (_consumer, _subject, h) => ((subscribed = h), { stop: async () => undefined }),
    broadcast: async () => ({ stop: async () => undefined }),
    ping: async () => undefined,
    close: async () => undefined,
  };
  return { transport, handler: (event) => subscribed!(event) };
}

const backends = [
  { name: 'PGlite', url: () => undefined as string | undefined, skip: false as string | false },
  { name: 'PostgreSQL', url: () => testDatabaseUrl, skip: testDatabaseUrl === undefined ? 'needs TEST_DATABASE_URL' : (false as string | false) },
];

for (const backend of backends) {
  describeOrSkip(`outbox and inbox on ${backend.name}`, backend.skip, () => {
    let database: Database;
    let db: Db;
    let serviceMigrations: string;
    let dropDatabase: (() => Promise<void>) | undefined;

    before(async () => {
      serviceMigrations = mkdtempSync(join(tmpdir(), 'paymesh-outbox-test-'));
      writeFileSync(join(serviceMigrations, '0001_effects.sql'), `
        create table effects (id serial primary key, consumer text not null, event_id uuid not null, note text);
        create table orders (id uuid primary key, amount_minor bigint not null);
        -- Checked at commit: two effects writing the same key fail their group's commit, not a statement.
        create table once_only (k text unique deferrable initially deferred);`);
      let url = backend.url();
      if (url !== undefined) {
        const created = await createScratchDatabase(url);
        url = created.url;
        dropDatabase = created.drop;
      }
      database = await openDatabase({
        url,
        dataDir: 'memory://',
        migrations: [{ scope: 'platform', dir: platformMigrations }, { scope: 'test', dir: serviceMigrations }],
        logger,
        poolSize: 8,
      });
      db = database.db;
    });

    after(async () => {
      await database?.close();
      await dropDatabase?.();
      rmSync(serviceMigrations, { recursive: true, force: true });
    });

    beforeEach(async () => {
      await db.execute(sql`delete from outbox`);
      await db.execute(sql`delete from inbox`);
      await db.execute(sql`delete from effects`);
      await db.execute(sql`delete from orders`);
    });

    /** Subscribes `consumer` to orders.placed, recording one row in `effects` per handled event. */
    async function recordEffects(transport: EventTransport, consumer: string, options: { failFirst?: number } = {}) {
      const delivered: EventEnvelope[] = [];
      const requestIds: (string | undefined)[] = [];
      let failuresLeft = options.failFirst ?? 0;
      const [subscription] = await consumeEvents({ db, transport, logger, metrics, consumer }, [consume(OrderPlaced, async (tx, event) => {
        delivered.push(event);
        requestIds.push(currentRequestId());
        await tx.execute(sql`insert into effects (consumer, event_id, note) values (${consumer}, ${event.id}, ${event.data.note})`);
        if (failuresLeft > 0) {
          failuresLeft--;
          throw new Error('consumer failed after writing its effect (injected)');
        }
      })]);
      return { delivered, requestIds, subscription: subscription! };
    }

    async function effects(consumer?: string): Promise<{ event_id: string; note: string }[]> {
      return queryRows(db, consumer === undefined
        ? sql`select event_id, note from effects order by id`
        : sql`select event_id, note from effects where consumer = ${consumer} order by id`);
    }

    async function outbox(): Promise<OutboxRow[]> {
      return queryRows<OutboxRow>(db, sql`select id, published_at, attempts, last_error from outbox order by created_at`);
    }

    function placeOrder(amountMinor: number, note: string): Promise<EventEnvelope<{ note: string }>> {
      return db.transaction(async (tx) => {
        const id = randomUUID();
        await tx.execute(sql`insert into orders (id, amount_minor) values (${id}, ${amountMinor})`);
        return enqueue(tx, OrderPlaced, { note });
      });
    }

    function fastRelay(transport: EventTransport, options: { pollIntervalMs?: number } = {}): OutboxRelay {
      return new OutboxRelay({ db, transport, logger, pollIntervalMs: options.pollIntervalMs ?? 20, maxBackoffMs: 40, batchSize: 10 });
    }

    test('an event enqueued in a committed transaction is delivered once, as it was enqueued, with its request id', async () => {
      const transport = new InProcessTransport();
      const { delivered, requestIds } = await recordEffects(transport, 'test.orders');
      const enqueued = await requestContext.run({ requestId: 'req-committed-1' }, () => placeOrder(1250, 'first order'));
      assert.equal(enqueued.requestId, 'req-committed-1');
      const relay = fastRelay(transport);
      relay.start();
      try {
        await eventually(async () => ((await outbox())[0]?.published_at != null ? true : undefined), { what: 'event published' });
      } finally {
        await relay.stop();
      }
      assert.equal(delivered.length, 1);
      assert.deepEqual({ ...delivered[0] }, { ...enqueued });
      assert.deepEqual(requestIds, ['req-committed-1'], 'the consumer runs under the request id of the request that caused the event');
      assert.deepEqual(await effects(), [{ event_id: enqueued.id, note: 'first order' }]);
      const [row] = await outbox();
      assert.equal(row?.attempts, 1);
      assert.equal(row?.last_error, null);
    });

    test('an event enqueued in a transaction that rolls back is never published', async () => {
      const transport = new FailingFirstTransport(new InProcessTransport(), 0);
      const { delivered } = await recordEffects(transport, 'test.orders');
      let rolledBack: EventEnvelope | undefined;
      await assert.rejects(db.transaction(async (tx) => {
        await tx.execute(sql`insert into orders (id, amount_minor) values (${randomUUID()}, 999)`);
        rolledBack = await enqueue(tx, OrderPlaced, { note: 'rolled back' });
        throw new Error('the change failed after the event was written');
      }), /the change failed/);
      assert.ok(rolledBack !== undefined);
      const committed = await placeOrder(100, 'committed');

      const relay = fastRelay(transport);
      relay.start();
      await eventually(() => (delivered.length >= 1 ? true : undefined), { what: 'committed event delivered' });
      await relay.stop();

      assert.deepEqual(delivered.map((e) => e.id), [committed.id]);
      assert.equal(transport.published.has(rolledBack.id), false);
      assert.deepEqual((await outbox()).map((r) => r.id), [committed.id], 'the rolled-back event left no row behind');
      assert.deepEqual(await queryRows(db, sql`select amount_minor from orders`), [{ amount_minor: '100' }], 'and neither did its change');
    });

    test('when the transport refuses, the relay retries until every event is published and none is lost or doubled', async () => {
      const failures = 3;
      const transport = new FailingFirstTransport(new InProcessTransport(), failures);
      const { delivered } = await recordEffects(transport, 'test.orders');
      const events = [];
      for (let i = 0; i < 5; i++) events.push(await placeOrder(100 + i, `order ${i}`));

      const relay = fastRelay(transport);
      relay.start();
      try {
        await eventually(async () => ((await outbox()).every((r) => r.published_at != null) ? true : undefined), { what: 'every event published', timeoutMs: 5_000 });
      } finally {
        await relay.stop();
      }

      assert.equal(transport.refused, failures);
      assert.deepEqual(new Set(delivered.map((e) => e.id)), new Set(events.map((e) => e.id)));
      assert.equal(delivered.length, events.length, 'each event reached the consumer exactly once');
      for (const [id, count] of transport.published) assert.equal(count, 1, `event ${id} published once`);
      const rows = await outbox();
      assert.equal(rows.reduce((sum, r) => sum + r.attempts, 0), events.length + failures, 'every refusal counted as an attempt');
      assert.ok(rows.some((r) => r.attempts > 1), 'some event needed a retry');
      assert.ok(rows.every((r) => r.last_error === null), 'the error of a refused attempt is cleared once published');
      assert.equal((await effects()).length, events.length);
    });

    test('an event the transport never accepts stays in the outbox with its error; stopping does not drop it', async () => {
      const transport = new FailingFirstTransport(new InProcessTransport(), Number.MAX_SAFE_INTEGER);
      const event = await placeOrder(100, 'never accepted');
      const relay = fastRelay(transport);
      relay.start();
      await eventually(async () => ((await outbox())[0]?.attempts ?? 0) >= 2 ? true : undefined, { what: 'two refused attempts' });
      const startedStop = Date.now();
      await relay.stop(500);
      assert.ok(Date.now() - startedStop < 2_000, 'stop gives up at its deadline');
      const [row] = await outbox();
      assert.equal(row?.id, event.id);
      assert.equal(row?.published_at, null);
      assert.match(row?.last_error ?? '', /transport unavailable \(injected\)/);

      // A relay started later (a restart) publishes it once the transport accepts.
      transport.failuresLeft = 0;
      const { delivered } = await recordEffects(transport, 'test.orders');
      const restarted = fastRelay(transport);
      restarted.start();
      try {
        await eventually(() => (delivered.length === 1 ? true : undefined), { what: 'delivered after restart' });
      } finally {
        await restarted.stop();
      }
      assert.equal(delivered[0]?.id, event.id);
    });

    test('a consumer that fails is given the event again, and its effect is recorded once', async () => {
      const transport = new InProcessTransport();
      const { delivered } = await recordEffects(transport, 'test.orders', { failFirst: 2 });
      const event = await placeOrder(100, 'needs three tries');
      const relay = fastRelay(transport);
      relay.start();
      try {
        await eventually(async () => ((await outbox())[0]?.published_at != null ? true : undefined), { what: 'event published' });
      } finally {
        await relay.stop();
      }
      assert.equal(delivered.length, 3, 'two failed deliveries, then the one that committed');
      assert.deepEqual(await effects(), [{ event_id: event.id, note: 'needs three tries' }], 'the failed attempts rolled their effect back');
      assert.equal((await outbox())[0]?.attempts, 3);
    });

    test('a consumer counts each failure it hands back for redelivery, and its lag once handled', async () => {
      const transport = new InProcessTransport();
      const counted = createMetrics('redelivery-count-test');
      let failuresLeft = 2;
      await consumeEvents({ db, transport, logger, metrics: counted, consumer: 'test.counted' }, [consume(OrderPlaced, async (tx, event) => {
        if (failuresLeft-- > 0) throw new Error('not yet');
        await tx.execute(sql`insert into effects (consumer, event_id, note) values ('test.counted', ${event.id}, ${event.data.note})`);
      })]);
      const event = await placeOrder(100, 'fails twice');
      const envelope = { id: event.id, subject: event.subject, occurredAt: event.occurredAt, requestId: event.requestId, data: event.data };
      // The in-process transport rethrows to the publisher; each publish is one delivery.
      for (let i = 0; i < 3; i++) await transport.publish(envelope).catch(() => undefined);
      assert.deepEqual(await effects('test.counted'), [{ event_id: event.id, note: 'fails twice' }]);
      const redeliveries = (await counted.eventsRedeliveries.get()).values;
      assert.deepEqual(redeliveries.map((v) => [v.labels.consumer, v.labels.subject, v.value]), [['test.counted', OrderPlaced.subject, 2]]);
      const lag = (await counted.eventsConsumeLag.get()).values.find((v) => v.metricName === 'events_consume_lag_seconds_count');
      assert.equal(lag?.value, 1, 'one handling, one lag observation');
    });

    test('a redelivered event causes one effect only', async () => {
      const transport = new InProcessTransport();
      const handled: string[] = [];
      await consumeEvents({ db, transport, logger, metrics, consumer: 'test.redelivery' }, [consume(OrderPlaced, async (tx, event) => {
        await tx.execute(sql`insert into effects (consumer, event_id, note) values ('test.redelivery', ${event.id}, ${event.data.note})`);
      }, () => void handled.push('committed'))]);
      const event = await placeOrder(100, 'delivered three times');
      const envelope = { id: event.id, subject: event.subject, occurredAt: event.occurredAt, requestId: event.requestId, data: event.data };
      await transport.publish(envelope);
      await transport.publish(envelope);
      await transport.publish({ ...envelope, data: { note: 'a replay with other data' } });
      assert.deepEqual(await effects(), [{ event_id: event.id, note: 'delivered three times' }]);
      assert.deepEqual(handled, ['committed'], 'afterCommit runs for the delivery that had an effect only');
      assert.deepEqual(await queryRows(db, sql`select consumer, event_id from inbox`), [{ consumer: 'test.redelivery', event_id: event.id }]);
    });

    test('two deliveries of one event racing each other cause one effect only', async () => {
      const transport = new InProcessTransport();
      let started = 0;
      await consumeEvents({ db, transport, logger, metrics, consumer: 'test.race' }, [consume(OrderPlaced, async (tx, event) => {
        started++;
        await tx.execute(sql`insert into effects (consumer, event_id, note) values ('test.race', ${event.id}, ${event.data.note})`);
        await sleep(20); // hold the transaction open so the other delivery meets it
      })]);
      const event = await placeOrder(100, 'raced');
      const results = await Promise.allSettled(Array.from({ length: 4 }, () => transport.publish({ ...event })));
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'], 'a duplicate is not an error');
      assert.equal(started, 1, 'the duplicates found the id in the inbox and never ran the handler');
      assert.deepEqual(await effects(), [{ event_id: event.id, note: 'raced' }]);
    });

    test('the inbox is kept per consumer: two consumers of one event each apply it once', async () => {
      const transport = new InProcessTransport();
      await recordEffects(transport, 'test.ledger');
      await recordEffects(transport, 'test.mailer');
      const event = await placeOrder(100, 'fan out');
      await transport.publish({ ...event });
      await transport.publish({ ...event });
      assert.deepEqual(await effects('test.ledger'), [{ event_id: event.id, note: 'fan out' }]);
      assert.deepEqual(await effects('test.mailer'), [{ event_id: event.id, note: 'fan out' }]);
    });

    test('stopping the relay publishes the events still pending', async () => {
      const transport = new InProcessTransport();
      const { delivered } = await recordEffects(transport, 'test.orders');
      // Polls rarely and is never kicked: only stop() can publish what is enqueued below.
      const relay = fastRelay(transport, { pollIntervalMs: 60_000 });
      relay.start();
      await sleep(50); // the first pass, which found nothing, is over
      const events = [];
      for (let i = 0; i < 25; i++) events.push(await placeOrder(100 + i, `pending ${i}`));
      assert.equal(delivered.length, 0, 'nothing went out before stop');
      await relay.stop();
      assert.deepEqual(new Set(delivered.map((e) => e.id)), new Set(events.map((e) => e.id)));
      assert.equal(delivered.length, 25);
      assert.ok((await outbox()).every((r) => r.published_at != null));
    });

    test('stop returns within its deadline even while a slow pass is running, leaving the rest for later', async () => {
      const inner = new InProcessTransport();
      const slow = new FailingFirstTransport(inner, 0);
      slow.publish = async (event) => {
        await sleep(100); // a transport that answers slowly (or times out)
        await inner.publish(event);
      };
      for (let i = 0; i < 10; i++) await placeOrder(100 + i, `slow ${i}`);
      const relay = fastRelay(slow);
      relay.start();
      await sleep(50);
      const startedStop = Date.now();
      await relay.stop(100);
      const tookMs = Date.now() - startedStop;
      assert.ok(tookMs < 400, `stop(100) took ${tookMs} ms`);
    });

    test('a stopped relay publishes nothing more until it is started again', async () => {
      const transport = new InProcessTransport();
      const { delivered } = await recordEffects(transport, 'test.orders');
      const relay = fastRelay(transport);
      relay.start();
      await relay.stop();
      const event = await placeOrder(100, 'after stop');
      relay.kick();
      await sleep(100);
      assert.equal(delivered.length, 0);
      relay.start();
      try {
        await eventually(() => (delivered.length === 1 ? true : undefined), { what: 'delivered after start' });
      } finally {
        await relay.stop();
      }
      assert.equal(delivered[0]?.id, event.id);
    });

    test('an event leased by a relay that stalls is published by another once the lease runs out, and applied once', async () => {
      const inner = new InProcessTransport();
      const { delivered } = await recordEffects(inner, 'test.orders');
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let lateDeliveries = 0;
      const stalling = new FailingFirstTransport(inner, 0);
      stalling.publish = async (event) => {
        await released; // a relay stuck in a publish (a hung connection, a paused process)
        await inner.publish(event);
        lateDeliveries++;
      };
      const event = await placeOrder(100, 'stalled');
      const stalled = new OutboxRelay({ db, transport: stalling, logger, pollIntervalMs: 60_000, leaseMs: 100 });
      stalled.start();
      await sleep(30);
      const healthy = fastRelay(inner);
      healthy.start();
      try {
        await eventually(() => (delivered.length === 1 ? true : undefined), { what: 'published by the second relay' });
      } finally {
        release();
        await Promise.all([healthy.stop(), stalled.stop()]);
      }
      assert.equal(lateDeliveries, 1, 'the stalled relay delivered it again when it woke up');
      assert.equal(delivered.length, 1, 'the consumer handled it once');
      assert.deepEqual(await effects(), [{ event_id: event.id, note: 'stalled' }], 'the inbox absorbed the second delivery');
      assert.notEqual((await outbox())[0]?.published_at, null);
    });

    test('two relays sharing one outbox publish each event once', async () => {
      const transport = new FailingFirstTransport(new InProcessTransport(), 0);
      const { delivered } = await recordEffects(transport, 'test.orders');
      const events = [];
      for (let i = 0; i < 30; i++) events.push(await placeOrder(100 + i, `shared ${i}`));
      const relays = [fastRelay(transport), fastRelay(transport)];
      for (const relay of relays) relay.start();
      try {
        await eventually(async () => ((await outbox()).every((r) => r.published_at != null) ? true : undefined), { what: 'every event published' });
      } finally {
        await Promise.all(relays.map((relay) => relay.stop()));
      }
      assert.equal(transport.published.size, events.length);
      for (const [id, count] of transport.published) assert.equal(count, 1, `event ${id} published once`);
      assert.equal(delivered.length, events.length);
    });

    test('events handed over together commit as a group, in the order given; when one fails, each is applied alone: it fails by itself and is applied once when it comes back', async () => {
      const { transport: handingOver, handler } = handingOverTransport();
      let failing: string | undefined;
      await consumeEvents({ db, transport: handingOver, logger, metrics, consumer: 'test.grouped' }, [consume(OrderPlaced, async (tx, event) => {
        await tx.execute(sql`insert into effects (consumer, event_id, note) values (${'test.grouped'}, ${event.id}, ${event.data.note} || ':' || txid_current())`);
        if (event.id === failing) throw new Error('this one fails after writing its effect (injected)');
      })]);
      const calm = Array.from({ length: 12 }, (_, i) => newEvent(OrderPlaced.subject, { note: `calm ${i}` }, undefined));
      assert.ok((await Promise.allSettled(calm.map((event) => handler(event)))).every((o) => o.status === 'fulfilled'));
      const grouped = await effects('test.grouped');
      assert.deepEqual(grouped.map((e) => e.event_id), calm.map((e) => e.id), 'applied once each, in the order given');
      const transactions = new Set(grouped.map((e) => e.note.split(':')[1]));
      assert.ok(transactions.size < grouped.length / 2, `${grouped.length} events committed in ${transactions.size} transactions`);

      const events = Array.from({ length: 12 }, (_, i) => newEvent(OrderPlaced.subject, { note: `grouped ${i}` }, undefined));
      failing = events[5]!.id;
      const outcomes = await Promise.allSettled(events.map((event) => handler(event)));
      assert.deepEqual(outcomes.map((o) => o.status), events.map((e) => (e.id === failing ? 'rejected' : 'fulfilled')));
      const applied = (await effects('test.grouped')).slice(calm.length);
      assert.deepEqual(applied.map((e) => e.event_id), events.filter((e) => e.id !== failing).map((e) => e.id), 'the others applied, once each, in the order given');
      assert.deepEqual(await queryRows(db, sql`select event_id from inbox where consumer = 'test.grouped' and event_id = ${failing}`), [], 'the failed one is not marked as handled');

      // Delivered again (the transport's redelivery), it is applied; a duplicate of a handled one changes nothing.
      failing = undefined;
      await handler(events[5]!);
      await handler(events[0]!);
      assert.deepEqual(new Set((await effects('test.grouped')).map((e) => e.event_id)), new Set([...calm, ...events].map((e) => e.id)));
      assert.equal((await effects('test.grouped')).length, calm.length + events.length);
    });

    test('a group whose commit fails as a whole is applied again one event per transaction: only the event that can never commit fails', async () => {
      const { transport: handingOver, handler } = handingOverTransport();
      await db.execute(sql`delete from once_only`);
      await consumeEvents({ db, transport: handingOver, logger, metrics, consumer: 'test.commit-fails' }, [consume(OrderPlaced, async (tx, event) => {
        await tx.execute(sql`insert into effects (consumer, event_id, note) values (${'test.commit-fails'}, ${event.id}, ${event.data.note})`);
        // Two events with the same key: each statement passes, the commit of both together cannot.
        if (event.data.note.startsWith('key ')) await tx.execute(sql`insert into once_only (k) values (${event.data.note})`);
      })]);
      const events = ['plain 1', 'key A', 'plain 2', 'key A', 'plain 3'].map((note) => newEvent(OrderPlaced.subject, { note }, undefined));
      const outcomes = await Promise.allSettled(events.map((event) => handler(event)));
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled'], 'the second "key A" alone fails');
      assert.deepEqual((await effects('test.commit-fails')).map((e) => e.event_id), [0, 1, 2, 4].map((i) => events[i]!.id));
    });
  });
}

/** A database of its own on the CI server, so runs never see each other's rows. */
async function createScratchDatabase(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `t_platform_outbox_${randomBytes(6).toString('hex')}`;
  return { url: await ensureDatabase(adminUrl, name), drop: () => dropDatabase(adminUrl, name) };
}
