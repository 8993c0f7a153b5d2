// How fast one consumer replica drains a backlog of events from NATS JetStream into PostgreSQL, with
// the kit's group commit (consume-events.ts, commit-group.ts: the events a consumer holds commit
// in one transaction) against one transaction per event (groups of 1, what the consumer did
// before), each event's effect written by its own statements (`consume`) or the group's effects in
// multi-row statements (`consumeInGroups`, as the notifications service's payment consumers do),
// and against the floor: the same SQL sent by this process over one connection without NATS, one
// event per transaction, 64 per transaction, and 64 per transaction in multi-row statements.
//
// Each event's effect is what a payment's notification costs the notifications service: the
// inbox row (dedupe), a notification row, a delivery row and an outbox event. N events are
// published first (a backlog, as after a burst of payments or a consumer restart), then the
// consumer starts and the time until the last effect commits is measured. Needs the machine's
// PostgreSQL and NATS (BENCH_DATABASE_URL, BENCH_NATS_URL; defaults as in .ci/run).
//
//   node bench/event-consumer.ts            BENCH_EVENTS=3000 by default
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Type } from 'typebox';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { openDatabase, queryRows, sql, type Database, type Db } from '@paymesh/platform/db/open-database';
import { consume, consumeInGroups } from '@paymesh/platform/events/consume';
import { consumeEvents } from '@paymesh/platform/events/consume-events';
import { defineEvent } from '@paymesh/platform/events/define-event';
import { enqueue, enqueueMany } from '@paymesh/platform/events/enqueue';
import { newEvent } from '@paymesh/platform/events/event';
import { NatsTransport } from '@paymesh/platform/events/nats-transport';
import { createLogger } from '@paymesh/platform/logger';
import { createMetrics } from '@paymesh/platform/metrics';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const events = Number(process.env.BENCH_EVENTS ?? 3000);
const logger = createLogger('bench', 'silent');
const metrics = createMetrics('bench');

const PaymentSucceeded = defineEvent({
  subject: 'bench.payment_succeeded', version: 1, producer: 'bench', description: 'A payment succeeded (the benchmark\'s stand-in).',
  schema: Type.Object({ user_id: Type.Integer(), amount_minor: Type.Integer() }),
});
const InboxChanged = defineEvent({
  subject: 'bench.inbox_changed', version: 1, producer: 'bench', description: 'An inbox changed (the benchmark\'s stand-in).',
  schema: Type.Object({ user_id: Type.Integer() }),
});

/** The effect of one event: what the notifications consumer writes for a payment. */
async function notify(tx: Db, data: { user_id: number; amount_minor: number }): Promise<void> {
  const [row] = await queryRows<{ id: string }>(tx, sql`insert into notifications (user_id, type, title, data) values (${data.user_id}, 'payment.succeeded', 'Payment received', ${JSON.stringify(data)}::jsonb) returning id`);
  await tx.execute(sql`insert into deliveries (notification_id, channel, status) values (${row!.id}, 'email', 'pending')`);
  await enqueue(tx, InboxChanged, { user_id: data.user_id });
}

/** The same effects for a group of events, in one statement per table. */
async function notifyGroup(tx: Db, group: readonly { user_id: number; amount_minor: number }[]): Promise<void> {
  const rows = JSON.stringify(group.map((data, n) => ({ n, user_id: data.user_id, data })));
  const ids = await queryRows<{ id: string }>(tx, sql`insert into notifications (user_id, type, title, data)
    select user_id, 'payment.succeeded', 'Payment received', data from jsonb_to_recordset(${rows}::jsonb) as x(n int, user_id bigint, data jsonb) order by n returning id::text`);
  await tx.execute(sql`insert into deliveries (notification_id, channel, status)
    select id::bigint, 'email', 'pending' from jsonb_array_elements_text(${JSON.stringify(ids.map((row) => row.id))}::jsonb) as id`);
  await enqueueMany(tx, InboxChanged, group.map((data) => ({ data: { user_id: data.user_id }, requestId: undefined, traceparent: undefined })));
}

async function main(): Promise<void> {
  const name = `bench_consumer_${randomBytes(4).toString('hex')}`;
  const migrations = mkdtempSync(join(tmpdir(), 'paymesh-bench-consumer-'));
  writeFileSync(join(migrations, '0001_bench.sql'), `
    create table notifications (id bigserial primary key, user_id bigint not null, type text not null, title text not null, data jsonb not null, created_at timestamptz not null default now(),
      -- The top-level transaction (a savepoint's rows share it): how many commits the events took.
      tx bigint not null default txid_current());
    create index on notifications (user_id, id desc);
    create table deliveries (id bigserial primary key, notification_id bigint not null references notifications, channel text not null, status text not null);`);
  const url = await ensureDatabase(adminUrl, name);
  let database: Database | undefined;
  const results: { what: string; perSecond: number; seconds: number; transactions?: number }[] = [];
  try {
    database = await openDatabase({ url, dataDir: 'memory://', logger, poolSize: 4, migrations: [{ scope: 'platform', dir: resolve(import.meta.dirname, '../packages/platform/migrations') }, { scope: 'bench', dir: migrations }] });
    const db = database.db;
    const reset = async () => {
      for (const table of ['deliveries', 'notifications', 'outbox', 'inbox']) await db.execute(sql.raw(`truncate ${table} cascade`));
    };

    // The floor: the same SQL, no NATS, from this process over one connection.
    for (const [perTransaction, multiRow] of [[1, false], [64, false], [64, true]] as const) {
      await reset();
      const started = performance.now();
      for (let done = 0; done < events; done += perTransaction) {
        await db.transaction(async (tx) => {
          const group = Array.from({ length: Math.min(events, done + perTransaction) - done }, (_, k) => ({ user_id: 1 + ((done + k) % 100), amount_minor: 1234 }));
          if (multiRow) {
            await tx.execute(sql`insert into inbox (consumer, event_id) select 'floor', gen_random_uuid() from generate_series(1, ${group.length}::int)`);
            await notifyGroup(tx, group);
            return;
          }
          for (const data of group) {
            await tx.execute(sql`insert into inbox (consumer, event_id) values ('floor', gen_random_uuid())`);
            await notify(tx, data);
          }
        });
      }
      const seconds = (performance.now() - started) / 1000;
      results.push({ what: `floor: the same SQL without NATS, ${perTransaction} event${perTransaction === 1 ? '' : 's'} per transaction${multiRow ? ', in multi-row statements' : ''}`, perSecond: events / seconds, seconds });
    }

    // The consumer, draining a backlog of `events` from JetStream.
    for (const [groupSize, multiRow] of [[1, false], [64, false], [64, true]] as const) {
      await reset();
      const stream = `BENCH${randomBytes(4).toString('hex').toUpperCase()}`;
      const transport = await NatsTransport.connect({ url: natsUrl, stream, connectionName: 'bench-consumer', logger });
      try {
        for (let i = 0; i < events; i++) await transport.publish(newEvent(PaymentSucceeded.subject, { user_id: 1 + (i % 100), amount_minor: 1234 }, undefined));
        const started = performance.now();
        const consumer = multiRow
          ? consumeInGroups(PaymentSucceeded, (tx, group) => notifyGroup(tx, group.map(({ event }) => event.data)))
          : consume(PaymentSucceeded, (tx, event) => notify(tx, event.data));
        const subscriptions = await consumeEvents({ db, transport, logger, metrics, consumer: 'bench', maxGroupSize: groupSize }, [consumer]);
        const deadline = Date.now() + 300_000;
        for (;;) {
          const [{ count }] = await queryRows<{ count: string }>(db, sql`select count(*)::text as count from notifications`) as [{ count: string }];
          if (Number(count) >= events) break;
          if (Date.now() > deadline) throw new Error(`only ${count} of ${events} events handled in 300 s`);
          await new Promise((r) => setTimeout(r, 20));
        }
        const seconds = (performance.now() - started) / 1000;
        for (const subscription of subscriptions) await subscription.stop();
        const [{ transactions }] = await queryRows<{ transactions: string }>(db, sql`select count(distinct tx)::text as transactions from notifications`) as [{ transactions: string }];
        const what = groupSize === 1 ? 'consumer, one transaction per event' : `consumer, group commit (up to ${groupSize} events per transaction)${multiRow ? ', the group in multi-row statements' : ', a statement per event and table'}`;
        results.push({ what, perSecond: events / seconds, seconds, transactions: Number(transactions) });
        await transport.destroyStream();
      } finally {
        await transport.close();
      }
    }
  } finally {
    await database?.close();
    await dropDatabase(adminUrl, name);
    rmSync(migrations, { recursive: true, force: true });
  }

  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'cpu';
  console.log(`# one consumer draining ${events} events (NATS JetStream → PostgreSQL) on ${cpus().length} × ${cpu}, ${new Date().toISOString().slice(0, 10)}`);
  console.log('| what | events/s | seconds | transactions |');
  console.log('|---|---|---|---|');
  for (const r of results) console.log(`| ${r.what} | ${Math.round(r.perSecond)} | ${r.seconds.toFixed(2)} | ${r.transactions ?? '—'} |`);
  const find = (start: string, end = '') => results.find((r) => r.what.startsWith(start) && r.what.endsWith(end))!;
  const single = find('consumer, one');
  const grouped = find('consumer, group', 'per event and table');
  const multiRow = find('consumer, group', 'multi-row statements');
  const floor64 = find('floor', '64 events per transaction');
  const floorMultiRow = find('floor', 'multi-row statements');
  console.log(`\ngroup commit ÷ one per event: ${(grouped.perSecond / single.perSecond).toFixed(2)}; multi-row groups ÷ one per event: ${(multiRow.perSecond / single.perSecond).toFixed(2)}; multi-row ÷ a statement per event: ${(multiRow.perSecond / grouped.perSecond).toFixed(2)}`);
  console.log(`against their floors (64 per transaction, no NATS): group commit ${(grouped.perSecond / floor64.perSecond).toFixed(2)}, multi-row groups ${(multiRow.perSecond / floorMultiRow.perSecond).toFixed(2)}`);
}

await main();
