// Migrations on PostgreSQL when several replicas start at once (a Deployment's pods on a first
// install or a release): every replica opens the database without an error and each migration is
// applied once. Two `create table if not exists` racing on a fresh database fail with a unique
// violation on pg_type, so even the bookkeeping table is created under the migration lock. ADR 20.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.ts';
import { openDatabase } from '../src/db/open-database.ts';
import { createLogger } from '../src/logger.ts';

const testDatabaseUrl = process.env.TEST_DATABASE_URL;
const migrations = [{ scope: 'platform', dir: resolve(import.meta.dirname, '../migrations') }];
// Every platform migration there is, once each.
const expected = readdirSync(migrations[0]!.dir).filter((name) => name.endsWith('.sql')).sort().map((name) => `platform/${name}`);

test('replicas opening one fresh PostgreSQL database at once all succeed and apply each migration once', { skip: testDatabaseUrl === undefined ? 'needs TEST_DATABASE_URL' : false }, async () => {
  // Several fresh databases: the race is a matter of timing, one round alone could miss it.
  for (let round = 0; round < 5; round++) {
    const name = `k8s_migrate_${randomBytes(4).toString('hex')}`;
    const url = await ensureDatabase(testDatabaseUrl!, name);
    try {
      const applied: string[] = [];
      const logger = createLogger('test', 'info', {
        write(line: string) {
          const { migration } = JSON.parse(line) as { migration?: string };
          if (migration !== undefined) applied.push(migration);
        },
      });
      const opened = await Promise.allSettled(Array.from({ length: 4 }, () => openDatabase({ url, dataDir: 'memory://', migrations, logger })));
      const failures = opened.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
      for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
      assert.deepEqual(failures, [], `round ${round}: no replica fails`);

      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const recorded = await client.query<{ name: string }>('select name from schema_migrations order by name').finally(() => client.end());
      assert.deepEqual(recorded.rows.map((row) => row.name), expected);
      assert.equal(applied.length, recorded.rows.length, `round ${round}: each migration applied by one replica only`);
    } finally {
      await dropDatabase(testDatabaseUrl!, name);
    }
  }
});
