// The inbox's Prometheus metrics: notifications written to inboxes, and the live streams open on
// this process. No recipient in any label.
import { afterCommit } from '@paymesh/platform/events/outbox-scope';
import { Counter, Gauge, type Registry } from 'prom-client';
import { isCatalogued } from '../messages/notification-types.ts';

export class InboxMetrics {
  readonly #created: Counter<'type'>;

  /** `openStreams`: the inbox streams this process holds now (live/inbox-hub.ts), read at scrape time. */
  constructor(registry: Registry, openStreams: () => number) {
    this.#created = new Counter({
      name: 'inbox_notifications_created_total',
      help: 'Notifications written to inboxes, by type (the catalogue\'s types; "custom" for any other an admin or service sent).',
      labelNames: ['type'] as const,
      registers: [registry],
    });
    new Gauge({
      name: 'inbox_stream_connections',
      help: 'Live inbox streams (Server-Sent Events) open on this process.',
      registers: [registry],
      collect() {
        this.set(openStreams());
      },
    });
  }

  /** Counts a notification of `type` once the transaction writing it commits. */
  recordCreated(type: string): void {
    // Types outside the catalogue are any string an admin chose: one label value for them all.
    const label = isCatalogued(type) ? type : 'custom';
    afterCommit(() => this.#created.inc({ type: label }));
  }
}
