// A failing query is logged by its SQLSTATE, table and constraint, never with the values it
// carried: drizzle's message lists every parameter, and PostgreSQL quotes the offending value in
// messages and details. Real failing queries on PGlite, and on PostgreSQL when TEST_DATABASE_URL is given.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { openDatabase, sql, type Database } from '../src/db/open-database.ts';
import { createLogger } from '../src/logger.ts';

const card = '4242424242424242';
const secret = `whsec_${randomBytes(12).toString('hex')}`;

for (const url of [undefined, process.env.TEST_DATABASE_URL].filter((u, i) => i === 0 || u !== undefined)) {
  describe(`errors are logged without query values (${url === undefined ? 'pglite' : 'postgres'})`, () => {
    let database: Database;
    const table = `log_scan_${randomBytes(4).toString('hex')}`;
    const lines: string[] = [];
    const logger = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });

    before(async () => {
      database = await openDatabase({ url, dataDir: 'memory://', migrations: [], logger: createLogger('test', 'silent') });
      await database.db.execute(sql.raw(`create table ${table} (id int primary key, secret text not null unique, data jsonb)`));
      await database.db.execute(sql`insert into ${sql.raw(table)} (id, secret) values (1, ${secret})`);
    });
    after(async () => {
      await database?.db.execute(sql.raw(`drop table if exists ${table}`));
      await database?.close();
    });

    /** Runs a query that must fail, logs its error as services do, and returns the line. */
    async function loggedFailure(query: ReturnType<typeof sql>): Promise<Record<string, any>> {
      const error = await database.db.execute(query).then(() => assert.fail('the query should fail'), (e: unknown) => e);
      lines.length = 0;
      logger.error({ err: error }, 'request failed');
      assert.equal(lines.length, 1);
      assert.ok(!lines[0]!.includes(card), `card number logged: ${lines[0]}`);
      assert.ok(!lines[0]!.includes(secret), `secret logged: ${lines[0]}`);
      return JSON.parse(lines[0]!);
    }

    const codeOf = (line: Record<string, any>): string | undefined => {
      for (let err = line.err; err !== undefined; err = err.cause) if (/^[0-9A-Z]{5}$/.test(String(err.code))) return err.code;
      return undefined;
    };

    test('a value out of range for its type (22003, whose message quotes the value) is logged by code only', async () => {
      const line = await loggedFailure(sql`select ${card}::int as n`);
      assert.equal(codeOf(line), '22003');
    });

    test('a unique violation (23505, whose detail quotes the key) is logged by code, table and constraint', async () => {
      const line = await loggedFailure(sql`insert into ${sql.raw(table)} (id, secret) values (2, ${secret})`);
      assert.equal(codeOf(line), '23505');
      assert.match(JSON.stringify(line), new RegExp(table));
    });

    test('a NUL in JSONB (22P05) with a card number beside it in the parameters is logged by code only', async () => {
      const line = await loggedFailure(sql`insert into ${sql.raw(table)} (id, secret, data) values (3, ${card}, ${JSON.stringify({ a: 'x\u0000y' })}::jsonb)`);
      assert.equal(codeOf(line), '22P05');
    });

    test('drizzle\'s "Failed query" keeps its SQL text and loses its parameters', async () => {
      const line = await loggedFailure(sql`select ${card}::int, ${secret}::int`);
      assert.match(line.err.message, /Failed query|database error/);
      assert.ok(!JSON.stringify(line).includes('4242'), 'not even part of the number');
    });
  });
}
