// How a payment's cost grows with the ledger (issue 18, goal 4): `POST /payments` (the contract's
// request, charged to the default test card), one at a time, p50 and p99 with 1,000 transfers in
// the ledger and with 10,000,000, and the ratio. The transfers are bulk-loaded in one statement
// between two accounts of the benchmark's own, whose totals are set to match, so the ledger's
// invariants still hold (checked at the end). The platform runs embedded on the machine's
// PostgreSQL (databases bench_ledger_*, dropped at the end); the requests go straight to the
// payments service.
//
//   node bench/ledger-growth.ts     BENCH_DATABASE_URL, BENCH_TRANSFERS=10000000, BENCH_REQUESTS=1000
import { randomUUID } from 'node:crypto';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '@paymesh/payments/check-invariants';
import { machineLine, percentile, startEmbeddedOnPostgres } from './embedded-on-postgres.ts';
import { send } from './http-client.ts';

const largeSize = Number(process.env.BENCH_TRANSFERS ?? 10_000_000);
const requests = Number(process.env.BENCH_REQUESTS ?? 1000);
const smallSize = 1000;

/** Grows the ledger to `size` transfers (one statement, in slices) between the benchmark's two accounts, their totals kept right. */
async function growLedger(db: Db, size: number): Promise<number> {
  const [{ n }] = await queryRows<{ n: string }>(db, sql`select count(*)::text as n from ledger_transfers`) as [{ n: string }];
  const started = performance.now();
  const [a, b] = ['bench:a:USD', 'bench:b:USD'];
  await db.execute(sql`insert into ledger_accounts (code, currency) values (${a}, 'USD'), (${b}, 'USD') on conflict (code) do nothing`);
  for (let from = Number(n); from < size; from += 1_000_000) {
    const count = Math.min(1_000_000, size - from);
    // Even rows move a → b, odd ones b → a, 1.00 each: a year of history, as old rows are.
    await db.execute(sql`with ids as (select id, code from ledger_accounts where code in (${a}, ${b}))
      insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, kind, flags, created_at)
      select gen_random_uuid(), case when g % 2 = 0 then (select id from ids where code = ${a}) else (select id from ids where code = ${b}) end,
        case when g % 2 = 0 then (select id from ids where code = ${b}) else (select id from ids where code = ${a}) end,
        100, 'USD', 'top_up', 'single', now() - interval '365 days' + g * interval '1 millisecond'
      from generate_series(1, ${count}) g`);
    await db.execute(sql`update ledger_accounts a set debits_posted = s.debits, credits_posted = s.credits
      from (select acc.id, coalesce((select sum(amount_minor) from ledger_transfers t where t.debit_account_id = acc.id), 0) as debits,
                           coalesce((select sum(amount_minor) from ledger_transfers t where t.credit_account_id = acc.id), 0) as credits
            from ledger_accounts acc where acc.code in (${a}, ${b})) s
      where a.id = s.id`);
  }
  await db.execute(sql`vacuum analyze ledger_transfers`);
  await db.execute(sql`checkpoint`);
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const bench = await startEmbeddedOnPostgres('bench_ledger');
  const { platform } = bench;
  const lines: string[] = [];
  try {
    const db = platform.services.payments.runtime.database.db;
    const paymentsUrl = `http://127.0.0.1:${platform.plan.http.payments}`;
    const { id, token } = await bench.signUp('ledger');
    const body = JSON.stringify({ amount: 12.34, user_id: id });
    const pay = async (): Promise<number> => {
      const started = performance.now();
      const response = await send(paymentsUrl, 'POST', '/payments', { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() }, body);
      if (response.status !== 200) throw new Error(`POST /payments: ${response.status} ${response.text}`);
      return performance.now() - started;
    };
    // The payer's row arrives by event: wait for the first payment to go through.
    for (let tries = 0; ; tries++) {
      try {
        await pay();
        break;
      } catch (error) {
        if (tries > 100) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const measure = async () => {
      for (let i = 0; i < 100; i++) await pay(); // warm-up
      const times: number[] = [];
      for (let i = 0; i < requests; i++) times.push(await pay());
      return times;
    };
    const loadSmall = await growLedger(db, smallSize);
    const small = await measure();
    const loadLarge = await growLedger(db, largeSize);
    const large = await measure();
    const [{ n }] = await queryRows<{ n: string }>(db, sql`select count(*)::text as n from ledger_transfers`) as [{ n: string }];
    const violations = await checkLedgerInvariants(db);
    if (violations.length > 0) throw new Error(`ledger invariants broken: ${JSON.stringify(violations.slice(0, 5))}`);
    lines.push(`| ${smallSize.toLocaleString('en')} | ${percentile(small, 50).toFixed(2)} | ${percentile(small, 99).toFixed(2)} | ${loadSmall.toFixed(1)} |`);
    lines.push(`| ${largeSize.toLocaleString('en')} (${Number(n).toLocaleString('en')} after the run) | ${percentile(large, 50).toFixed(2)} | ${percentile(large, 99).toFixed(2)} | ${loadLarge.toFixed(1)} |`);
    lines.push('', `p99 ratio: ${(percentile(large, 99) / percentile(small, 99)).toFixed(2)} (goal ≤ 1.5); the ledger's invariants hold after the run.`);
  } finally {
    await bench.stop();
  }
  console.log(`# POST /payments, one at a time, ${requests} per size, straight to the payments service, on ${machineLine()}`);
  console.log('| transfers in the ledger | p50 (ms) | p99 (ms) | load, vacuum, analyze, checkpoint (s) |');
  console.log('|---|---|---|---|');
  for (const line of lines) console.log(line);
}

await main();
