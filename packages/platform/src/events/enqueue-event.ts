import { sql } from 'drizzle-orm';
import type { Db } from '../db/open-database.ts';
import { currentRequestId } from '../request-context.ts';
import { newEvent, type EventEnvelope } from './event.ts';
import { noteEnqueued } from './outbox-scope.ts';

/**
 * Writes an event into the outbox. Call it inside the transaction that makes the change the event
 * announces (`runtime.transaction`): both commit or neither does, and the relay is kicked after
 * the commit.
 */
export async function enqueueEvent<T>(tx: Db, subject: string, data: T): Promise<EventEnvelope<T>> {
  const event = newEvent(subject, data, currentRequestId());
  await tx.execute(sql`insert into outbox (id, subject, payload, request_id, created_at)
    values (${event.id}, ${subject}, ${JSON.stringify(event.data)}::jsonb, ${event.requestId ?? null}, ${event.occurredAt})`);
  noteEnqueued();
  return event;
}
