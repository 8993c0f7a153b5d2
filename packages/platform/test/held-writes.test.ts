// A commit group's units may hold writes back (held-writes.ts): each kind is written once for the
// whole group, after its units. A held row that cannot be written fails the group, which is then
// applied one unit at a time, so only the unit that held it fails, and nothing of it stays.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { commitGroup } from '@paymesh/platform/db/commit-group';
import { holdWrite, type HeldWrite } from '@paymesh/platform/db/held-writes';
import type { PGlite } from '@paymesh/platform/db/drizzle';
import { createPglite, pgliteDatabase, queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { takingTurns } from '@paymesh/platform/db/pglite-turns';

let client: PGlite;
let db: Db;
before(async () => {
  client = await createPglite('memory://', undefined);
  db = pgliteDatabase(takingTurns(client)).db;
  await client.exec('create table made (id int primary key); create table held (id int primary key)');
});
after(async () => {
  await client?.close();
});
beforeEach(async () => {
  await client.exec('truncate made, held');
});

/** A kind whose rows go in one insert, which refuses negative ids (as a lost claim would be refused); it counts its statements. */
function heldKind(): HeldWrite<number> & { statements: number } {
  const kind = {
    statements: 0,
    async write(tx: Db, ids: readonly number[]) {
      kind.statements++;
      if (ids.some((id) => id < 0)) throw new Error(`refused: ${ids.filter((id) => id < 0).join(', ')}`);
      await tx.execute(sql`insert into held (id) select id::int from jsonb_array_elements_text(${JSON.stringify(ids.map(String))}::jsonb) as id`);
    },
  };
  return kind;
}

const ids = async (table: 'made' | 'held') => (await queryRows<{ id: number }>(db, sql`select id from ${sql.raw(table)} order by id`)).map((row) => row.id);

test("a group's held rows are written once for the whole group, after its units", async () => {
  const kind = heldKind();
  const group = commitGroup(db, { maxSize: 10 });
  // The first unit starts a group alone; the next four arrive while it commits and go together.
  const units = [1, 2, 3, 4, 5].map((id) => group.run(async (tx) => {
    await tx.execute(sql`insert into made (id) values (${id})`);
    assert.equal(holdWrite(kind, id), true);
    return id;
  }));
  assert.deepEqual(await Promise.all(units), [1, 2, 3, 4, 5]);
  assert.deepEqual(await ids('made'), [1, 2, 3, 4, 5]);
  assert.deepEqual(await ids('held'), [1, 2, 3, 4, 5]);
  assert.equal(kind.statements, 2, 'one statement for the first unit alone, one for the group of four');
});

test('a held row that cannot be written fails only its own unit: the group is applied again one unit at a time, and nothing of the failed unit stays', async () => {
  const kind = heldKind();
  const group = commitGroup(db, { maxSize: 10 });
  const results = await Promise.allSettled([10, 11, -12, 13, 14].map((id) => group.run(async (tx) => {
    await tx.execute(sql`insert into made (id) values (${Math.abs(id)})`);
    holdWrite(kind, id);
    return id;
  })));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
  assert.match(String((results[2] as PromiseRejectedResult).reason), /refused: -12/);
  assert.deepEqual(await ids('made'), [10, 11, 13, 14]);
  assert.deepEqual(await ids('held'), [10, 11, 13, 14]);
});

test('outside a commit group nothing is held: the caller writes at once', async () => {
  const kind = heldKind();
  assert.equal(holdWrite(kind, 1), false);
  await db.transaction(async () => {
    assert.equal(holdWrite(kind, 2), false);
  });
  assert.equal(kind.statements, 0);
});
