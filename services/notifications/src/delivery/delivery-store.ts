// Reading deliveries as the API shows them, and queueing one again by hand.
import type { Caller } from '@paymesh/platform/auth/caller';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { notificationsErrors } from '../errors.ts';
import { visibleTo, type AttemptRow, type DeliveryRow } from './public-delivery.ts';

/** What the API reads of a delivery (of the table aliased `d`): the payload only as whether it was erased. */
export const deliveryColumns = sql`d.id, d.recipient_id, d.notification_id, d.type, d.channel, d.target_id, d.status, d.attempts, d.next_attempt_at,
  d.last_error, d.created_at, d.delivered_at, d.seq, d.payload is null as payload_erased`;

/** The delivery, if the caller may see it; otherwise 404, as for an unknown id. */
export async function findVisibleDelivery(db: Db, caller: Caller, id: string): Promise<DeliveryRow> {
  const [row] = await queryRows<DeliveryRow>(db, sql`select ${deliveryColumns} from deliveries d where d.id = ${id} and ${visibleTo(caller)}`);
  if (row === undefined) throw notificationsErrors.deliveryNotFound();
  return row;
}

export const attemptsOf = (db: Db, id: string) =>
  queryRows<AttemptRow>(db, sql`select * from delivery_attempts where delivery_id = ${id} order by attempt`);

/**
 * One more attempt, now: for a delivery that is not pending, still has its payload, and is a
 * webhook or not yet delivered. Undefined when it no longer qualifies (it changed meanwhile).
 */
export async function requeueDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  const [updated] = await queryRows<DeliveryRow>(db, sql`update deliveries d set status = 'pending', next_attempt_at = now(), manual = true
    where d.id = ${id} and d.status <> 'pending' and d.payload is not null and (d.channel = 'webhook' or d.status <> 'delivered') returning ${deliveryColumns}`);
  return updated;
}
