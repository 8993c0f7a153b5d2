import { sql } from '../db/drizzle.ts';
import type { Db } from '../db/open-database.ts';
import { currentRequestId } from '../request-context.ts';
import type { EventContract, EventData } from './define-event.ts';
import { newEvent, type EventEnvelope } from './event.ts';
import { noteEnqueued } from './outbox-scope.ts';
import { currentTraceparent } from '../tracing/trace-context.ts';

/**
 * Writes an event into the outbox. Call it inside the transaction that makes the change the event
 * announces: both commit or neither does. In a transaction of a service's database the relay is
 * kicked once it commits, and the contract must be one the service declares it publishes
 * (outbox-scope.ts). The payload is typed by the contract's schema; consumers check it again
 * (admit-event.ts).
 */
export async function enqueue<C extends EventContract>(tx: Db, contract: C, data: EventData<C>): Promise<EventEnvelope<EventData<C>>> {
  noteEnqueued(contract.subject);
  const event = newEvent(contract.subject, data, currentRequestId(), new Date(), contract.version);
  // The trace of the change goes with its event: the relay publishes it in a child span.
  await tx.execute(sql`insert into outbox (id, subject, version, payload, request_id, created_at, traceparent)
    values (${event.id}, ${contract.subject}, ${contract.version}, ${JSON.stringify(event.data)}::jsonb, ${event.requestId ?? null}, ${event.occurredAt}, ${currentTraceparent() ?? null})`);
  return event;
}

/** One event of a group for enqueueMany, with the request id and trace of the change it announces. */
export interface ToEnqueue<D> {
  readonly data: D;
  readonly requestId: string | undefined;
  readonly traceparent: string | undefined;
}

/**
 * Writes several events of one contract into the outbox in one statement (a group's effects,
 * consume.ts's consumeInGroups), each with the request id and trace given, as enqueue does for one.
 */
export async function enqueueMany<C extends EventContract>(tx: Db, contract: C, items: readonly ToEnqueue<EventData<C>>[]): Promise<EventEnvelope<EventData<C>>[]> {
  if (items.length === 0) return [];
  noteEnqueued(contract.subject);
  const at = new Date();
  const events = items.map((item) => newEvent(contract.subject, item.data, item.requestId, at, contract.version));
  const rows = JSON.stringify(events.map((event, i) => ({ id: event.id, payload: event.data, request_id: event.requestId ?? null, created_at: event.occurredAt, traceparent: items[i]!.traceparent ?? null })));
  await tx.execute(sql`insert into outbox (id, subject, version, payload, request_id, created_at, traceparent)
    select id, ${contract.subject}, ${contract.version}, payload, request_id, created_at, traceparent
    from jsonb_to_recordset(${rows}::jsonb) as x(id uuid, payload jsonb, request_id text, created_at timestamptz, traceparent text)`);
  return events;
}
