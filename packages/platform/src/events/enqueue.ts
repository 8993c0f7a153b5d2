import { sql } from '../db/drizzle.ts';
import type { Db } from '../db/open-database.ts';
import { currentRequestId } from '../request-context.ts';
import type { EventContract, EventData } from './define-event.ts';
import { newEvent, type EventEnvelope } from './event.ts';
import { noteEnqueued } from './outbox-scope.ts';
import { holdWrite, type HeldWrite } from '../db/held-writes.ts';
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
  const row = outboxRow(contract, event, currentTraceparent());
  // In a commit group the group's events are written together at its end (held-writes.ts).
  if (!holdWrite(outboxRows, row)) await outboxRows.write(tx, [row]);
  return event;
}

interface OutboxRow {
  readonly id: string;
  readonly subject: string;
  readonly version: number;
  readonly payload: unknown;
  readonly request_id: string | null;
  readonly created_at: string;
  readonly traceparent: string | null;
}

function outboxRow(contract: EventContract, event: EventEnvelope, traceparent: string | undefined): OutboxRow {
  return { id: event.id, subject: contract.subject, version: contract.version, payload: event.data, request_id: event.requestId ?? null, created_at: event.occurredAt, traceparent: traceparent ?? null };
}

/** Outbox rows in one statement (a commit group's, held back until its end). */
const outboxRows: HeldWrite<OutboxRow> = { write: writeOutboxRows };

async function writeOutboxRows(tx: Db, rows: readonly OutboxRow[]): Promise<void> {
  await tx.execute(sql`insert into outbox (id, subject, version, payload, request_id, created_at, traceparent)
    select id, subject, version, payload, request_id, created_at, traceparent
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id uuid, subject text, version int, payload jsonb, request_id text, created_at timestamptz, traceparent text)`);
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
  const rows = events.map((event, i) => outboxRow(contract, event, items[i]!.traceparent));
  // All held (inside a commit group) or none (the first is refused, and `every` stops there).
  if (!rows.every((row) => holdWrite(outboxRows, row))) await outboxRows.write(tx, rows);
  return events;
}
