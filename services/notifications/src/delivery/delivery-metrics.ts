import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

export class DeliveryMetrics {
  /** Every attempt, by channel and outcome (delivered, retry, failed, invalid_target). */
  readonly attempts: Counter<'channel' | 'outcome'>;
  /** From the message's creation to the provider's acceptance, retries included. */
  readonly latency: Histogram<'channel'>;

  constructor(registry: Registry, db: Db) {
    this.attempts = new Counter({ name: 'notification_delivery_attempts_total', help: 'Delivery attempts by channel and outcome.', labelNames: ['channel', 'outcome'] as const, registers: [registry] });
    this.latency = new Histogram({
      name: 'notification_delivery_latency_seconds',
      help: 'Time from a message being recorded to its delivery, by channel (retries included).',
      labelNames: ['channel'] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400],
      registers: [registry],
    });
    // Read from the table at scrape time, so every replica reports the same truth and an alert on
    // dead deliveries survives restarts.
    new Gauge({
      name: 'notification_deliveries',
      help: 'Deliveries waiting (pending) or given up (dead), by channel.',
      labelNames: ['channel', 'status'] as const,
      registers: [registry],
      async collect() {
        const rows = await queryRows<{ channel: string; status: string; n: number }>(db, sql`
          select channel, status, count(*)::int as n from deliveries where status in ('pending', 'dead') group by channel, status`);
        this.reset();
        for (const channel of ['email', 'push', 'webhook']) for (const status of ['pending', 'dead']) this.set({ channel, status }, 0);
        for (const row of rows) this.set({ channel: row.channel, status: row.status }, row.n);
      },
    });
  }
}
