import { sql } from '../db/drizzle.ts';
import type { Db } from '../db/open-database.ts';
import { queryRows } from '../db/open-database.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { requestContext } from '../request-context.ts';
import { admitEvent } from './admit-event.ts';
import type { EventConsumer, HandedEvent } from './consume.ts';
import type { EventContract } from './define-event.ts';
import type { EventTransport, Subscription } from './event.ts';
import { boundToCurrentTrace, inSpanFrom, SpanKind } from '../tracing/trace-context.ts';
import { commitBatch } from '../db/commit-group.ts';

export interface ConsumeOptions {
  readonly db: Db;
  readonly transport: EventTransport;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'eventsDeadLettered' | 'eventsConsumeLag' | 'eventsRedeliveries'>;
  /** The durable consumer's name, e.g. `notifications`. Also the inbox scope. */
  readonly consumer: string;
  /** At most this many events' effects in one transaction; 64 (what a NATS consumer holds) unless a benchmark compares. */
  readonly maxGroupSize?: number;
}

/**
 * Subscribes each consumer to its contract's subject. Idempotent: the event id goes into the inbox
 * in the same transaction as the effect, so a redelivery (at-least-once transports redeliver)
 * finds the id and changes nothing. Events handed over together are committed together
 * (db/commit-group.ts) in one transaction, without savepoints (two round trips fewer per event):
 * their ids recorded in one statement, then handed to the consumer as a group (which may write
 * their effects in multi-row statements); when one fails, the group rolls back and each of its
 * events is applied alone, so only the failing one is delivered again. An event its contract does not admit is dead-lettered
 * (admit-event.ts) before any of that: acknowledged, never retried.
 */
export function consumeEvents(options: ConsumeOptions, consumers: readonly EventConsumer<EventContract>[]): Promise<Subscription[]> {
  const { db, transport, logger, consumer } = options;
  return Promise.all(consumers.map(({ contract, handleGroup, afterCommit }) => {
    const admit = admitEvent(contract, consumer, options);
    // The events a transport hands over together (NATS: the messages buffered) commit together.
    /** An event as the group holds it: its request context (logs), and a runner bound to its trace too. */
    interface Held { readonly handed: HandedEvent; readonly context: { readonly requestId: string } }
    const group = commitBatch<Held, boolean>(db, {
      maxSize: options.maxGroupSize ?? 64,
      apply: async (tx, held, alone) => {
        // In id order: two groups holding the same redelivered ids never wait on each other crosswise.
        const ids = JSON.stringify(held.map(({ handed }) => handed.event.id));
        const fresh = new Set((await queryRows<{ event_id: string }>(tx, sql`insert into inbox (consumer, event_id)
          select ${consumer}, id::uuid from jsonb_array_elements_text(${ids}::jsonb) as id order by 2
          on conflict do nothing returning event_id::text`)).map((row) => uuidDigits(row.event_id)));
        // The same event twice in one group (a redelivery while the first waited): the first one is handled.
        const chosen = held.filter(({ handed }) => fresh.delete(uuidDigits(handed.event.id)));
        // Alone, the transaction already runs in the event's trace: its work stays inside the transaction's span.
        const events = chosen.map(({ handed, context }) => (alone ? { event: handed.event, inOwnContext: <T>(run: () => T): T => requestContext.run(context, run) } : handed));
        if (events.length > 0) await handleGroup(tx, events as HandedEvent<never>[]);
        const handled = new Set(chosen);
        return held.map((item) => handled.has(item));
      },
    });
    return transport.consume(consumer, contract.subject, (received) => {
      const context = { requestId: received.requestId ?? received.id };
      return requestContext.run(context, () => inSpanFrom(received.traceparent, `process ${received.subject}`, SpanKind.CONSUMER, {
        'messaging.operation.type': 'process', 'messaging.destination.name': received.subject, 'messaging.message.id': received.id, 'messaging.consumer.group.name': consumer,
      }, async () => {
        const event = admit(received);
        if (event === undefined) return;
        const labels = { consumer, subject: event.subject };
        let handled: boolean;
        try {
          // The group applies it in its own turn: the event's request id (its logs) and trace go with it.
          handled = await group.run({ handed: { event, inOwnContext: boundToCurrentTrace(<T>(run: () => T): T => requestContext.run(context, run)) }, context });
        } catch (error) {
          // The transport hands the event back later: one redelivery.
          options.metrics.eventsRedeliveries.inc(labels);
          throw error;
        }
        if (handled) {
          const occurred = Date.parse(event.occurredAt);
          if (Number.isFinite(occurred)) options.metrics.eventsConsumeLag.observe(labels, Math.max(0, Date.now() - occurred) / 1000);
          logger.info({ consumer, eventId: event.id, subject: event.subject }, 'event handled');
          // The relay is kicked by the transaction itself (the kit's runtime); this is the consumer's own wake-up.
          afterCommit?.();
        } else {
          logger.debug({ consumer, eventId: event.id }, 'duplicate event ignored');
        }
      }));
    });
  }));
}

/** A UUID's 32 hex digits, lower case: PostgreSQL gives back its own spelling of the id it was sent. */
function uuidDigits(id: string): string {
  return id.toLowerCase().replace(/[^0-9a-f]/g, '');
}
