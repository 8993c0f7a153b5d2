// How the inbox's cost grows with its size (issue 18, goal 4): `GET /notifications/?limit=20` and
// `GET /notifications/unread_count` for a user with 10 notifications and for one with 100,000
// (bulk-inserted, all unread, as after months without reading), p99 of each and the ratio. Beside
// them, in the same run, the query the unread count used before migration 0006 (a count of the
// unread rows from their index) at both sizes: what keeping the count beside the inbox's head
// saves. The platform runs embedded on the machine's PostgreSQL (databases bench_inbox_*, dropped
// at the end); the requests go straight to the notifications service, one at a time.
//
//   node bench/inbox-growth.ts        BENCH_DATABASE_URL (default: .ci/run's), BENCH_REQUESTS=2000
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { machineLine, percentile, startEmbeddedOnPostgres } from './embedded-on-postgres.ts';
import { send } from './http-client.ts';

const requests = Number(process.env.BENCH_REQUESTS ?? 2000);
const sizes = [10, 100_000] as const;

async function main(): Promise<void> {
  const bench = await startEmbeddedOnPostgres('bench_inbox');
  const { platform } = bench;
  const rows: string[] = [];
  try {
    const db = platform.services.notifications.runtime.database.db;
    const notificationsUrl = `http://127.0.0.1:${platform.plan.http.notifications}`;
    const users: { size: number; id: number; token: string }[] = [];
    for (const size of sizes) {
      const { id, token } = await bench.signUp(`inbox${size}`);
      // As the service writes them (the triggers keep the unread count), in one statement.
      await db.execute(sql`insert into notifications (recipient_id, type, title, message, data, sent_at)
        select ${id}, 'payment.succeeded', 'Payment received', 'Payment of $12.34 received.', jsonb_build_object('payment_id', 'pay_' || g), now() - (${size} - g) * interval '1 minute'
        from generate_series(1, ${size}) g`);
      users.push({ size, id, token });
    }
    await db.execute(sql`vacuum analyze notifications`);
    await db.execute(sql`vacuum analyze inbox_heads`);

    const cases = [
      { name: 'GET /notifications/?limit=20', path: '/notifications/?limit=20' },
      { name: 'GET /notifications/unread_count', path: '/notifications/unread_count' },
    ];
    const times = new Map<string, number[]>();
    const key = (name: string, size: number) => `${name}@${size}`;
    // Interleaved in rounds: whatever else the machine does lands on every case alike.
    const rounds = 10;
    for (let round = 0; round < rounds + 1; round++) {
      for (const c of cases) {
        for (const user of users) {
          const list = times.get(key(c.name, user.size)) ?? [];
          for (let i = 0; i < requests / rounds; i++) {
            const started = performance.now();
            const response = await send(notificationsUrl, 'GET', c.path, { authorization: `Bearer ${user.token}` });
            if (response.status !== 200) throw new Error(`${c.path}: ${response.status} ${response.text}`);
            if (round > 0) list.push(performance.now() - started);
          }
          times.set(key(c.name, user.size), list);
        }
        // The query the count used before (the unread rows counted from their index), beside it.
        if (c.path.includes('unread_count')) {
          for (const user of users) {
            const list = times.get(key('before: count(*) of the unread rows (SQL only)', user.size)) ?? [];
            for (let i = 0; i < requests / rounds; i++) {
              const started = performance.now();
              await queryRows(db, sql`select count(*) from notifications where recipient_id = ${user.id} and read_at is null`);
              if (round > 0) list.push(performance.now() - started);
            }
            times.set(key('before: count(*) of the unread rows (SQL only)', user.size), list);
          }
        }
      }
    }
    for (const name of [...cases.map((c) => c.name), 'before: count(*) of the unread rows (SQL only)']) {
      const small = times.get(key(name, sizes[0]))!;
      const large = times.get(key(name, sizes[1]))!;
      rows.push(`| ${name} | ${percentile(small, 50).toFixed(2)} | ${percentile(small, 99).toFixed(2)} | ${percentile(large, 50).toFixed(2)} | ${percentile(large, 99).toFixed(2)} | ${(percentile(large, 99) / percentile(small, 99)).toFixed(2)} |`);
    }
  } finally {
    await bench.stop();
  }
  console.log(`# an inbox of 10 and of 100,000 notifications, ${requests} requests per case, one at a time, on ${machineLine()}`);
  console.log('| case | p50 @ 10 (ms) | p99 @ 10 | p50 @ 100,000 | p99 @ 100,000 | p99 ratio |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await main();
