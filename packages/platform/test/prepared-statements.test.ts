// On PostgreSQL the kit names the statements it sends (prepared-statements.ts, ADR 30): parsed once
// per connection, then only bound and executed. These tests check it on one connection (a pool of
// one): what gets a name, what must not, and that a statement whose table changed under it (another
// replica's migration) fails once and is then prepared afresh.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.ts';
import { openDatabase, queryRows, sql, type Database } from '../src/db/open-database.ts';
import { createLogger } from '../src/logger.ts';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

const adminUrl = process.env.TEST_DATABASE_URL;
const logger = createLogger('test', 'silent');

describeOrSkip('named statements on PostgreSQL', adminUrl === undefined ? 'needs TEST_DATABASE_URL' : false, () => {
  const name = `t_platform_prepared_${randomBytes(6).toString('hex')}`;
  let database: Database;
  before(async () => {
    database = await openDatabase({ url: await ensureDatabase(adminUrl!, name), dataDir: 'unused', migrations: [], logger, poolSize: 1 });
    await database.db.execute(sql`create table things (id int primary key, label text)`);
    await database.db.execute(sql`insert into things values (1, 'one'), (2, 'two')`);
  });
  after(async () => {
    await database?.close();
    await dropDatabase(adminUrl!, name);
  });
  const prepared = async () => (await queryRows<{ statement: string }>(database.db, sql`select statement from pg_prepared_statements order by prepare_time`)).map((r) => r.statement);

  test('a statement with parameters is prepared once on the connection and then reused', async () => {
    for (const id of [1, 2, 1]) {
      const [row] = await queryRows<{ label: string }>(database.db, sql`select label from things where id = ${id}`);
      assert.equal(row!.label, id === 1 ? 'one' : 'two');
    }
    const statements = await prepared();
    assert.equal(statements.filter((s) => s === 'select label from things where id = $1').length, 1);
  });

  test('a text without parameters keeps the simple protocol: several statements in one text still run', async () => {
    await database.db.execute(sql.raw('select 1; select 2'));
    await database.db.transaction(async (tx) => {
      await tx.execute(sql.raw("set local statement_timeout = '5s'; set local lock_timeout = '1s'"));
    });
    assert.ok(!(await prepared()).some((s) => s.includes('select 2') || s.includes('lock_timeout')));
  });

  test('a statement whose result changed shape under it (a column added elsewhere) fails once, then runs prepared afresh', async () => {
    const read = () => queryRows<Record<string, unknown>>(database.db, sql`select * from things where id = ${1}`);
    assert.deepEqual(await read(), [{ id: 1, label: 'one' }]);
    await database.db.execute(sql.raw("alter table things add column colour text default 'blue'"));
    await assert.rejects(read(), (error: unknown) => ((error as { cause?: { code?: string } }).cause ?? (error as { code?: string })).code === '0A000');
    assert.deepEqual(await read(), [{ id: 1, label: 'one', colour: 'blue' }]);
    assert.deepEqual(await read(), [{ id: 1, label: 'one', colour: 'blue' }]);
  });

  test('statements inside a transaction are prepared too, and a failed one leaves the connection usable', async () => {
    await assert.rejects(database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into things (id, label) values (${3}, ${'three'})`);
      await tx.execute(sql`insert into things (id, label) values (${3}, ${'three again'})`);
    }));
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into things (id, label) values (${3}, ${'three'})`);
    });
    assert.deepEqual(await queryRows(database.db, sql`select label from things where id = ${3}`), [{ label: 'three' }]);
    assert.equal((await prepared()).filter((s) => s.startsWith('insert into things (id, label)')).length, 1);
  });
});
