import { sql } from 'drizzle-orm';
import type { Db } from '../db/open-database.ts';
import { queryRows } from '../db/open-database.ts';
import type { Logger } from '../logger.ts';
import { requestContext } from '../request-context.ts';
import type { EventEnvelope, EventTransport, Subscription } from './event.ts';

export interface ConsumeOptions<T> {
  readonly db: Db;
  readonly transport: EventTransport;
  readonly logger: Logger;
  /** The durable consumer's name, e.g. `notifications.payment-succeeded`. Also the inbox scope. */
  readonly consumer: string;
  readonly subject: string;
  /** Runs inside the transaction that records the event id; write the effect with `tx`. */
  readonly handle: (tx: Db, event: EventEnvelope<T>) => Promise<void>;
  /** Called after a handled event committed (to kick the outbox relay, say). */
  readonly afterCommit?: () => void;
}

/**
 * Idempotent consumer: the event id goes into the inbox in the same transaction as the effect, so
 * a redelivery (at-least-once transports redeliver) finds the id and changes nothing.
 */
export function consumeEvents<T>(options: ConsumeOptions<T>): Promise<Subscription> {
  const { db, transport, logger, consumer, subject, handle } = options;
  return transport.consume(consumer, subject, (event) =>
    requestContext.run({ requestId: event.requestId ?? event.id }, async () => {
      let handled = false;
      await db.transaction(async (tx) => {
        const fresh = await queryRows(tx, sql`insert into inbox (consumer, event_id) values (${consumer}, ${event.id}) on conflict do nothing returning event_id`);
        if (fresh.length === 0) return;
        await handle(tx, event as EventEnvelope<T>);
        handled = true;
      });
      if (handled) {
        logger.info({ consumer, eventId: event.id, subject: event.subject }, 'event handled');
        options.afterCommit?.();
      } else {
        logger.debug({ consumer, eventId: event.id }, 'duplicate event ignored');
      }
    }),
  );
}
