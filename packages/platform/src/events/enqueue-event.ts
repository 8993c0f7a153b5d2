import { sql } from 'drizzle-orm';
import type { Db } from '../db/open-database.ts';
import { currentRequestId } from '../request-context.ts';
import { newEvent, type EventEnvelope } from './event.ts';
import { noteEnqueued } from './outbox-scope.ts';

/**
 * Writes an event into the outbox. Call it inside the transaction that makes the change the event
 * announces: both commit or neither does. In a transaction of a service's database the relay is
 * kicked once it commits, and the subject must be one the service declares (outbox-scope.ts).
 */
export async function enqueueEvent<T>(tx: Db, subject: string, data: T): Promise<EventEnvelope<T>> {
  noteEnqueued(subject);
  const event = newEvent(subject, data, currentRequestId());
  await tx.execute(sql`insert into outbox (id, subject, payload, request_id, created_at)
    values (${event.id}, ${subject}, ${JSON.stringify(event.data)}::jsonb, ${event.requestId ?? null}, ${event.occurredAt})`);
  return event;
}
