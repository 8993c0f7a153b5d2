// Embedded mode keeps every service's data in one PGlite cluster, each service in its own schema
// under its own role (docs/adr/0029-embedded-databases.md): these tests check that a service still
// cannot read another's tables, that the data survives a restart, and that a data folder made
// before the cluster (one PGlite per service) still starts with its data.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { declarations } from '@paymesh/app/start-embedded';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';
import { startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { openDatabase, queryRows, sql } from '@paymesh/platform/db/open-database';
import { createLogger } from '@paymesh/platform/logger';
import { migrationSets } from '@paymesh/platform/runtime';

/** A table each service owns. */
const ownTable: Record<ServiceName, string> = { auth: 'signing_keys', users: 'users', payments: 'payments', notifications: 'notifications' };

/** The PostgreSQL error code under drizzle's wrapping error. */
async function failureCode(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
  } catch (error) {
    return ((error as { cause?: { code?: string } }).cause ?? (error as { code?: string })).code;
  }
  return undefined;
}

describe('in memory', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform('pglite');
  });
  after(async () => {
    await platform?.stop();
  });
  const db = (name: ServiceName) => platform.service(name).runtime.database.db;

  test('the embedded platform keeps its services in one cluster', () => {
    assert.equal(platform.embedded!.dataLayout, 'cluster');
  });

  test("a service's database handle cannot read another service's tables (permission denied)", async () => {
    for (const reader of serviceNames) {
      for (const owner of serviceNames) {
        if (owner === reader) continue;
        const code = await failureCode(db(reader).execute(sql`select 1 from ${sql.raw(`"${owner}"."${ownTable[owner]}"`)} limit 1`));
        assert.equal(code, '42501', `${reader} reading ${owner}.${ownTable[owner]}`);
      }
    }
  });

  test('a service reads its own tables by their plain names, and only its own', async () => {
    for (const name of serviceNames) {
      await queryRows(db(name), sql`select 1 from ${sql.raw(ownTable[name])} limit 1`);
      const other = serviceNames.find((n) => n !== name && ownTable[n] !== ownTable[name])!;
      // Another service's table is not on its search path: it does not exist for it.
      assert.equal(await failureCode(db(name).execute(sql`select 1 from ${sql.raw(ownTable[other])} limit 1`)), '42P01', `${name} naming ${ownTable[other]}`);
    }
  });

  test("a service's handle runs as its own role, which is no superuser and cannot write outside its schema", async () => {
    for (const name of serviceNames) {
      const [me] = await queryRows<{ current_user: string; rolsuper: boolean; rolcreaterole: boolean }>(db(name), sql`select current_user, rolsuper, rolcreaterole from pg_roles where rolname = current_user`);
      assert.deepEqual(me, { current_user: name, rolsuper: false, rolcreaterole: false });
      assert.equal(await failureCode(db(name).execute(sql`create table public.stray (id int)`)), '42501', `${name} creating a table in public`);
      // A failed statement leaves the next one in the service's role too.
      const [again] = await queryRows<{ current_user: string }>(db(name), sql`select current_user`);
      assert.equal(again!.current_user, name);
    }
  });

  test("the services' statements and transactions interleaved on the one session each run as their own role, never another's", async () => {
    // The session's role is switched when the next caller is another service's (ADR 31): calls
    // from all four, at once, statements and transactions mixed, and some of them failing.
    const seen = await Promise.all(
      Array.from({ length: 80 }, async (_, i) => {
        const name = serviceNames[(i * 7) % serviceNames.length]!;
        if (i % 5 === 0) {
          // A transaction that fails: its rollback must not hand the next caller this role.
          await failureCode(db(name).transaction(async (tx) => {
            await tx.execute(sql`select 1`);
            await tx.execute(sql`select 1 from no_such_table`);
          }));
          return { name, user: name, schema: name };
        }
        const read = async (handle: Parameters<typeof queryRows>[0]) =>
          (await queryRows<{ user: string; schema: string }>(handle, sql`select current_user as "user", current_schema() as "schema"`))[0]!;
        const row = i % 3 === 0 ? await db(name).transaction((tx) => read(tx)) : await read(db(name));
        return { name, user: row.user, schema: row.schema };
      }),
    );
    for (const { name, user, schema } of seen) assert.deepEqual({ user, schema }, { user: name, schema: name });
  });
});

describe('on disk', () => {
  const roots: string[] = [];
  const newRoot = () => {
    const root = mkdtempSync(join(tmpdir(), 'paymesh-data-'));
    roots.push(root);
    return root;
  };
  after(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  test('data survives a restart of the embedded platform', async () => {
    const dataRoot = newRoot();
    const first = await startTestPlatform('pglite', { dataRoot });
    let user;
    try {
      assert.equal(first.embedded!.dataLayout, 'cluster');
      user = await first.api.signUp();
    } finally {
      await first.stop();
    }
    assert.ok(existsSync(join(dataRoot, 'platform', 'PG_VERSION')), 'one cluster under platform/');
    for (const name of serviceNames) assert.ok(!existsSync(join(dataRoot, name)), `no folder of its own for ${name}`);
    const second = await startTestPlatform('pglite', { dataRoot });
    try {
      const token = await second.api.login(user.username, user.password);
      const me = await second.api.call('GET', '/users/me', { token });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, user.id);
      await second.api.adminToken();
    } finally {
      await second.stop();
    }
  });

  test('a data folder from before the cluster (one PGlite per service) starts with its data', async () => {
    const dataRoot = newRoot();
    // What earlier releases made: each service's own cluster in <data root>/<service>, migrated.
    const logger = createLogger('old-layout', 'silent');
    for (const name of serviceNames) {
      const database = await openDatabase({ url: undefined, dataDir: join(dataRoot, name), migrations: migrationSets(name, declarations[name].migrations), logger });
      if (name === 'users') await database.db.execute(sql`insert into users (username, email, display_name) values ('from_before', 'from_before@example.com', 'From before')`);
      await database.close();
    }
    const first = await startTestPlatform('pglite', { dataRoot });
    let user;
    try {
      assert.equal(first.embedded!.dataLayout, 'per-service');
      const [old] = await queryRows<{ display_name: string }>(first.service('users').runtime.database.db, sql`select display_name from users where username = 'from_before'`);
      assert.equal(old?.display_name, 'From before');
      user = await first.api.signUp();
    } finally {
      await first.stop();
    }
    assert.ok(!existsSync(join(dataRoot, 'platform')), 'no cluster made beside the old folders');
    const second = await startTestPlatform('pglite', { dataRoot });
    try {
      assert.equal(second.embedded!.dataLayout, 'per-service');
      await second.api.login(user.username, user.password);
    } finally {
      await second.stop();
    }
  });
});
