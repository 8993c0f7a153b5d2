// PGlite's callers take turns, and the event loop gets in between them (pglite-turns.ts,
// docs/adr/0031-pglite-turns.md): a backlog of statements must not hold the process for its whole
// length, or sockets wait to be accepted while it runs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PGlite } from '@paymesh/platform/db/drizzle';
import { createPglite } from '@paymesh/platform/db/open-database';
import { takingTurns } from '@paymesh/platform/db/pglite-turns';

let client: PGlite;
before(async () => {
  client = await createPglite('memory://', undefined);
  await client.exec('create table entries (id int primary key, note text)');
});
after(async () => {
  await client?.close();
});

/** A statement that keeps PGlite busy for a few milliseconds. */
const busyWork = 'select count(*) from generate_series(1, 30000)';

/** How many of `count` statements had finished when a setImmediate queued with them ran. */
async function finishedBeforeTheLoopTurned(run: (text: string) => Promise<unknown>, count: number): Promise<number> {
  let finished = 0;
  let seen: number | undefined;
  const backlog = Array.from({ length: count }, () => run(busyWork).then(() => finished++));
  setImmediate(() => {
    seen = finished;
  });
  await Promise.all(backlog);
  await new Promise((resolve) => setImmediate(resolve));
  return seen!;
}

test('without turns a backlog of statements runs in one turn of the event loop (the defect turns exist for)', async () => {
  assert.equal(await finishedBeforeTheLoopTurned((text) => client.query(text), 40), 40);
});

test('with turns the event loop runs between statements once a slice of work is spent', async () => {
  const turns = takingTurns(client, 0);
  // A slice of 0 ms: every caller lets the loop in first, so the setImmediate runs after one statement at most.
  assert.ok((await finishedBeforeTheLoopTurned((text) => turns.query(text), 40)) <= 1);
  // The default slice: the loop still gets in long before 40 busy statements are done.
  const defaultSlice = takingTurns(client);
  assert.ok((await finishedBeforeTheLoopTurned((text) => defaultSlice.query(text), 40)) < 40);
});

test('callers get their turns in arrival order, queries and transactions alike', async () => {
  const turns = takingTurns(client, 0);
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      i % 3 === 0
        ? turns.transaction(async (tx) => {
            await tx.query(busyWork);
            await tx.query('select 1');
            order.push(i);
          })
        : turns.query(busyWork).then(() => order.push(i)),
    ),
  );
  assert.deepEqual(order, Array.from({ length: 30 }, (_, i) => i));
});

test('a transaction keeps its turn while the event loop runs: no other caller sees its writes before commit', async () => {
  const turns = takingTurns(client, 0);
  await turns.exec('delete from entries');
  const seenByOthers: number[] = [];
  const writer = turns.transaction(async (tx) => {
    for (let id = 1; id <= 5; id++) {
      await tx.query('insert into entries (id, note) values ($1, $2)', [id, 'in flight']);
      // Another caller arrives while the transaction is open and the event loop is free.
      if (id === 2) {
        void turns.query<{ n: number }>('select count(*)::int as n from entries').then((result) => seenByOthers.push(result.rows[0]!.n));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
  await writer;
  await turns.query('select 1');
  assert.deepEqual(seenByOthers, [5]);
});

test('a failing statement or transaction passes the turn on, and the failed transaction leaves nothing', async () => {
  const turns = takingTurns(client, 0);
  await turns.exec('delete from entries');
  const results = await Promise.allSettled([
    turns.query('select * from no_such_table'),
    turns.transaction(async (tx) => {
      await tx.query("insert into entries (id, note) values (10, 'rolled back')");
      throw new Error('the work failed');
    }),
    turns.query("insert into entries (id, note) values (11, 'kept')"),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'fulfilled']);
  assert.deepEqual((await turns.query<{ id: number }>('select id from entries order by id')).rows, [{ id: 11 }]);
  assert.equal(turns.busy, false);
  assert.equal(turns.waiting, 0);
});

test('busy and waiting tell how many callers hold and wait for the one session', async () => {
  const turns = takingTurns(client, 0);
  const pending = [turns.query(busyWork), turns.query(busyWork), turns.query(busyWork)];
  assert.equal(turns.busy, true);
  assert.equal(turns.waiting, 2);
  await Promise.all(pending);
  assert.equal(turns.busy, false);
  assert.equal(turns.waiting, 0);
});

test("a statement sent through a turn's session after the turn ended is refused, never run in another caller's turn", async () => {
  const turns = takingTurns(client, 0);
  let kept: Parameters<Parameters<typeof turns.turn>[0]>[0] | undefined;
  await turns.turn(async (session) => {
    kept = session;
    await session.query('select 1');
  });
  assert.throws(() => kept!.query('select 1'), /after its turn had ended/);
  assert.equal(turns.busy, false);
});
