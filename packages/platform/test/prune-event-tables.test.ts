// Retention: the outbox keeps what is unpublished (however old) and forgets what was published a
// day ago; the inbox remembers an event id longer than any transport can redeliver it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { openDatabase, queryRows, sql, type Database } from '../src/db/open-database.ts';
import { pruneEventTables } from '../src/events/prune-event-tables.ts';
import { createLogger } from '../src/logger.ts';

let database: Database;
before(async () => {
  database = await openDatabase({ url: undefined, dataDir: 'memory://', migrations: [{ scope: 'platform', dir: resolve(import.meta.dirname, '../migrations') }], logger: createLogger('test', 'silent') });
});
after(async () => {
  await database?.close();
});

test('published outbox rows older than a day and inbox rows older than 8 days are deleted; unpublished events never are', async () => {
  const { db } = database;
  const row = async (id: string, createdAgo: string, publishedAgo: string | null) => {
    await db.execute(sql`insert into outbox (id, subject, payload, created_at, published_at)
      values (${id}, 'x.y', '{}'::jsonb, now() - ${createdAgo}::interval, ${publishedAgo === null ? null : sql`now() - ${publishedAgo}::interval`})`);
  };
  const [oldPublished, freshPublished, oldUnpublished] = [randomUUID(), randomUUID(), randomUUID()];
  await row(oldPublished, '3 days', '2 days');
  await row(freshPublished, '2 hours', '1 hour');
  await row(oldUnpublished, '30 days', null);
  const [oldSeen, recentSeen] = [randomUUID(), randomUUID()];
  await db.execute(sql`insert into inbox (consumer, event_id, processed_at) values ('c', ${oldSeen}, now() - interval '9 days'), ('c', ${recentSeen}, now() - interval '6 days')`);

  await pruneEventTables(db);

  const outbox = new Set((await queryRows<{ id: string }>(db, sql`select id from outbox`)).map((r) => r.id));
  assert.deepEqual(outbox, new Set([freshPublished, oldUnpublished]));
  const inbox = new Set((await queryRows<{ event_id: string }>(db, sql`select event_id from inbox`)).map((r) => r.event_id));
  assert.deepEqual(inbox, new Set([recentSeen]));
});
