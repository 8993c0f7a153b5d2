// The relay under faults: a relay that dies holding a lease delays its events by one short lease,
// not 30 s; and a stalled broker is met with a bounded window of publishes in flight at once, sent
// in order, instead of one publish (and one timeout) at a time.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.ts';
import { openDatabase, queryRows, sql, type Database } from '../src/db/open-database.ts';
import { Type } from 'typebox';
import { defineEvent } from '../src/events/define-event.ts';
import { enqueue as enqueueEvent } from '../src/events/enqueue.ts';
import type { EventEnvelope, EventTransport } from '../src/events/event.ts';
import { OutboxRelay } from '../src/events/outbox-relay.ts';
import { createLogger } from '../src/logger.ts';
import { eventually } from './eventually.ts';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

const logger = createLogger('test', 'silent');
const platformMigrations = resolve(import.meta.dirname, '../migrations');
const testDatabaseUrl = process.env.TEST_DATABASE_URL;
const Counted = defineEvent({ subject: 'orders.placed', version: 1, producer: 'test', description: 'The n-th event of a run.', schema: Type.Object({ n: Type.Integer() }) });

/** A transport that records each publish and answers only when the test says so. */
class HeldTransport implements EventTransport {
  readonly kind = 'in-process' as const;
  readonly sent: string[] = [];
  readonly #waiting: (() => void)[] = [];
  inFlight = 0;
  mostInFlight = 0;
  holding = true;

  async publish(event: EventEnvelope): Promise<void> {
    this.sent.push(event.id);
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      if (this.holding) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } finally {
      this.inFlight--;
    }
  }

  releaseAll(): void {
    this.holding = false;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }

  consume(): Promise<never> {
    return Promise.reject(new Error('not used'));
  }

  broadcast(): Promise<never> {
    return Promise.reject(new Error('not used'));
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}
}

const backends = [
  { name: 'PGlite', url: () => undefined as string | undefined, skip: false as string | false },
  { name: 'PostgreSQL', url: () => testDatabaseUrl, skip: testDatabaseUrl === undefined ? 'needs TEST_DATABASE_URL' : (false as string | false) },
];

for (const backend of backends) {
  describeOrSkip(`the outbox relay under faults on ${backend.name}`, backend.skip, () => {
    let database: Database;
    let url: string | undefined;
    let scratch: string | undefined;

    before(async () => {
      if (backend.url() !== undefined) {
        scratch = `t_relay_faults_${randomBytes(6).toString('hex')}`;
        url = await ensureDatabase(backend.url()!, scratch);
      }
      database = await openDatabase({ url, dataDir: 'memory://', migrations: [{ scope: 'platform', dir: platformMigrations }], logger });
    });

    after(async () => {
      await database?.close();
      if (scratch !== undefined) await dropDatabase(backend.url()!, scratch);
    });

    beforeEach(async () => {
      await database.db.execute(sql`delete from outbox`);
    });

    async function enqueue(count: number): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) ids.push((await database.db.transaction((tx) => enqueueEvent(tx, Counted, { n: i }))).id);
      return ids;
    }

    test('a stalled broker gets a bounded window of publishes in flight at once, sent in order, and every event once it answers', async () => {
      const ids = await enqueue(100);
      const transport = new HeldTransport();
      const relay = new OutboxRelay({ db: database.db, transport, logger, batchSize: 32 });
      relay.start();
      try {
        // A whole window is in flight while the broker holds every acknowledgement.
        await eventually(() => (transport.inFlight === 32 ? true : undefined), { what: 'a full window in flight', timeoutMs: 10_000 });
        transport.releaseAll();
        await eventually(async () => {
          const [row] = await queryRows<{ left: string }>(database.db, sql`select count(*) as left from outbox where published_at is null`);
          return Number(row!.left) === 0 ? true : undefined;
        }, { what: 'every event published', timeoutMs: 15_000 });
      } finally {
        transport.releaseAll();
        await relay.stop();
      }
      assert.equal(transport.mostInFlight, 32, 'never more than one window in flight');
      assert.deepEqual([...transport.sent].sort(), [...ids].sort(), 'each event sent once');
      // In the order written (events written in the same millisecond have no order between them).
      const written = new Map((await queryRows<{ id: string; at: string }>(database.db, sql`select id, to_char(created_at, 'YYYYMMDDHH24MISSUS') as at from outbox`)).map((r) => [r.id, r.at]));
      const times = transport.sent.map((id) => written.get(id)!);
      assert.deepEqual(times, [...times].sort(), 'sent in the order written');
    });

    test('events leased by a relay killed mid-publish are published by a new relay within one short lease', { skip: backend.url() === undefined ? 'a killed relay needs a server shared by two processes' : false }, async () => {
      const ids = await enqueue(5);
      const child = spawn(process.execPath, [resolve(import.meta.dirname, 'hung-relay.ts'), url!], { stdio: 'ignore' });
      try {
        // The dead relay's predecessor holds the lease on every event when it dies.
        await eventually(async () => {
          const [row] = await queryRows<{ held: string }>(database.db, sql`select count(*) as held from outbox where locked_until > now()`);
          return Number(row!.held) === ids.length ? true : undefined;
        }, { what: 'the first relay leased the events', timeoutMs: 30_000, intervalMs: 50 });
      } finally {
        child.kill('SIGKILL');
      }
      const transport = new HeldTransport();
      transport.releaseAll();
      const relay = new OutboxRelay({ db: database.db, transport, logger, pollIntervalMs: 100 });
      relay.start();
      try {
        // Well within the old 30 s lease: the default lease covers one window's publish only.
        await eventually(() => (transport.sent.length === ids.length ? true : undefined), { what: 'taken over', timeoutMs: 15_000, intervalMs: 50 });
      } finally {
        await relay.stop();
      }
      assert.deepEqual([...transport.sent].sort(), [...ids].sort());
    });
  });
}
