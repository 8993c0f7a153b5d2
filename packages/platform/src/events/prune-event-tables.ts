// Published outbox rows and old inbox rows are deleted on a timer: the outbox only needs what is
// unpublished, and the inbox must outlive every redelivery (JetStream keeps events 7 days).
import { sql } from '../db/drizzle.ts';
import type { Db } from '../db/open-database.ts';

export const outboxRetentionHours = 24;
export const inboxRetentionDays = 8;

export async function pruneEventTables(db: Db): Promise<void> {
  await db.execute(sql`delete from outbox where published_at < now() - make_interval(hours => ${outboxRetentionHours})`);
  await db.execute(sql`delete from inbox where processed_at < now() - make_interval(days => ${inboxRetentionDays})`);
}
