// The outbox's backlog, read from its table at scrape time: every replica reports the same truth,
// and an event stuck behind a broker outage shows as a growing backlog and an ageing oldest row.
import { Gauge, type Registry } from 'prom-client';
import { queryRows, sql, type Db } from '../db/open-database.ts';

export function registerOutboxMetrics(registry: Registry, db: () => Db | undefined): void {
  let backlog = 0;
  let oldestSec = 0;
  // One query per scrape for both gauges: the backlog's collect refreshes what both report.
  const read = async () => {
    const handle = db();
    if (handle === undefined) return;
    try {
      const [row] = await queryRows<{ n: number; oldest: number | null }>(handle, sql`
        select count(*)::int as n, extract(epoch from now() - min(created_at))::float8 as oldest
        from outbox where published_at is null`);
      backlog = row?.n ?? 0;
      oldestSec = Math.max(0, row?.oldest ?? 0);
    } catch {
      // The database away: the last values stay, and the readiness probe says why.
    }
  };
  new Gauge({
    name: 'outbox_backlog_events',
    help: 'Events written to the outbox and not yet published.',
    registers: [registry],
    async collect() {
      await read();
      this.set(backlog);
    },
  });
  new Gauge({
    name: 'outbox_oldest_unpublished_age_seconds',
    help: 'Age of the oldest event not yet published (0 when none waits).',
    registers: [registry],
    collect() {
      this.set(oldestSec);
    },
  });
}
