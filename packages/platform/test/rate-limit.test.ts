// The one rate limiter (rate-limit/rate-limit.ts) on its real store: PGlite, and PostgreSQL when
// TEST_DATABASE_URL is given. A limit is shared by every replica (two limiters over one database
// are two replicas), refuses with the seconds to wait, and a refused joint attempt counts nowhere.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dropDatabase, ensureDatabase } from '../src/db/ensure-database.ts';
import { openDatabase, type Database } from '../src/db/open-database.ts';
import { createLogger } from '../src/logger.ts';
import { RateLimit, takeAll } from '../src/rate-limit/rate-limit.ts';

const testDatabaseUrl = process.env.TEST_DATABASE_URL;
const migrations = [{ scope: 'platform', dir: resolve(import.meta.dirname, '../migrations') }];

for (const store of [{ name: 'PGlite', postgres: false }, { name: 'PostgreSQL', postgres: true }]) {
  describe(`rate limits on ${store.name}`, { skip: store.postgres && testDatabaseUrl === undefined ? 'needs TEST_DATABASE_URL' : false }, () => {
    let database: Database;
    const dbName = `rate_limit_${randomBytes(4).toString('hex')}`;
    before(async () => {
      const url = store.postgres ? await ensureDatabase(testDatabaseUrl!, dbName) : undefined;
      database = await openDatabase({ url, dataDir: 'memory://', migrations, logger: createLogger('test', 'silent') });
    });
    after(async () => {
      await database?.close();
      if (store.postgres) await dropDatabase(testDatabaseUrl!, dbName);
    });

    test('the limit holds over every replica, and the refusal says how long to wait', async () => {
      const replicaA = new RateLimit(database.db, { name: 'checks', limit: 3, windowSec: 60 });
      const replicaB = new RateLimit(database.db, { name: 'checks', limit: 3, windowSec: 60 });
      assert.equal(await replicaA.take('alice'), 0);
      assert.equal(await replicaB.take('alice'), 0);
      assert.equal(await replicaA.take('alice'), 0);
      const wait = await replicaB.take('alice');
      assert.ok(wait >= 59 && wait <= 60, `waits ${wait} s`);
      // Another key, and the same key under another limit, are counted apart.
      assert.equal(await replicaA.take('bob'), 0);
      assert.equal(await new RateLimit(database.db, { name: 'other', limit: 1, windowSec: 60 }).take('alice'), 0);
    });

    test('a key is exhausted once it has used its limit, and looking counts nothing', async () => {
      const limit = new RateLimit(database.db, { name: 'wrong-passwords', limit: 2, windowSec: 900 });
      assert.equal(await limit.exhausted('erin'), false);
      assert.equal(await limit.exhausted('erin'), false);
      await limit.take('erin');
      assert.equal(await limit.exhausted('erin'), false);
      await limit.take('erin');
      assert.equal(await limit.exhausted('erin'), true);
    });

    test('a long key (a 254-character mailbox) is counted like any other', async () => {
      const limit = new RateLimit(database.db, { name: 'registrations-by-mailbox', limit: 1, windowSec: 3600 });
      const mailbox = `${'m'.repeat(242)}@example.com`;
      assert.equal(await limit.take(mailbox), 0);
      assert.ok(await limit.take(mailbox) > 0);
    });

    test('concurrent events are all counted: no more than the limit is admitted', async () => {
      const limit = new RateLimit(database.db, { name: 'burst', limit: 5, windowSec: 60 });
      const waits = await Promise.all(Array.from({ length: 20 }, () => limit.take('carol')));
      assert.equal(waits.filter((w) => w === 0).length, 5);
    });

    test('a joint attempt refused by one limit uses up nothing of the others', async () => {
      const perClient = new RateLimit(database.db, { name: 'per-client', limit: 1, windowSec: 3600 });
      const perMailbox = new RateLimit(database.db, { name: 'per-mailbox', limit: 2, windowSec: 3600 });
      assert.equal(await takeAll([{ limit: perClient, key: '10.0.0.1' }, { limit: perMailbox, key: 'dana@example.com' }]), 0);
      const wait = await takeAll([{ limit: perClient, key: '10.0.0.1' }, { limit: perMailbox, key: 'dana@example.com' }]);
      assert.ok(wait > 3500 && wait <= 3600, `waits ${wait} s`);
      // The mailbox still has its second registration, from another address.
      assert.equal(await takeAll([{ limit: perClient, key: '10.0.0.2' }, { limit: perMailbox, key: 'dana@example.com' }]), 0);
      assert.ok(await perMailbox.take('dana@example.com') > 0);
    });
  });
}
