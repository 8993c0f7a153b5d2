// The outbox's backlog, read from its table at scrape time: every replica reports the same truth,
// and an event stuck behind a broker outage shows as a growing backlog and an ageing oldest row.
import type { Registry } from 'prom-client';
import { queryRows, sql, type Db } from '../db/open-database.ts';
import { registerScrapedGauges } from '../scraped-gauges.ts';

export function registerOutboxMetrics(registry: Registry, db: () => Db | undefined): void {
  registerScrapedGauges(registry, {
    outbox_backlog_events: 'Events written to the outbox and not yet published.',
    outbox_oldest_unpublished_age_seconds: 'Age of the oldest event not yet published (0 when none waits).',
  }, async () => {
    const handle = db();
    if (handle === undefined) return undefined;
    const [row] = await queryRows<{ n: number; oldest: number | null }>(handle, sql`
      select count(*)::int as n, extract(epoch from now() - min(created_at))::float8 as oldest
      from outbox where published_at is null`);
    return { outbox_backlog_events: row?.n ?? 0, outbox_oldest_unpublished_age_seconds: Math.max(0, row?.oldest ?? 0) };
  });
}
