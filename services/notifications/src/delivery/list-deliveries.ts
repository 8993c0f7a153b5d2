// One page of the deliveries a caller may see, newest first, cursor on the delivery id (resolved
// among what the caller may see, so another user's delivery id is no cursor).
import type { Caller } from '@paymesh/platform/auth/caller';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { notificationsErrors } from '../errors.ts';
import { deliveryColumns } from './delivery-store.ts';
import { visibleTo, type DeliveryRow } from './public-delivery.ts';
import { objectIdSchema } from '@paymesh/platform/ids';
import { pageLimit, pageOf, pageQuery } from '@paymesh/platform/pagination';

/** The page parameters of every delivery list (the querystring's part). */
export const deliveryPageQuery = pageQuery(objectIdSchema);

/** Narrows the list among what the caller may see anyway: a user's recipientId filter finds only their own. */
export interface DeliveryFilter {
  readonly channel?: string | undefined;
  readonly status?: string | undefined;
  readonly notificationId?: string | undefined;
  readonly recipientId?: string | undefined;
  readonly targetId?: string | undefined;
}

export async function listDeliveries(db: Db, caller: Caller, filter: DeliveryFilter, page: { limit?: string; starting_after?: string }): Promise<{ rows: DeliveryRow[]; hasMore: boolean }> {
  const limit = pageLimit(page.limit, 20);
  const where = sql.join([
    filter.channel === undefined ? sql`true` : sql`d.channel = ${filter.channel}`,
    filter.status === undefined ? sql`true` : sql`d.status = ${filter.status}`,
    filter.notificationId === undefined ? sql`true` : sql`d.notification_id = ${filter.notificationId}`,
    filter.recipientId === undefined ? sql`true` : sql`d.recipient_id = ${filter.recipientId}`,
    filter.targetId === undefined ? sql`true` : sql`d.target_id = ${filter.targetId}`,
  ], sql` and `);
  let cursor = sql`true`;
  if (page.starting_after !== undefined) {
    const [found] = await queryRows<{ seq: string }>(db, sql`select d.seq from deliveries d where d.id = ${page.starting_after} and ${visibleTo(caller)}`);
    if (found === undefined) throw notificationsErrors.invalidCursor();
    cursor = sql`d.seq < ${found.seq}`;
  }
  const rows = await queryRows<DeliveryRow>(db, sql`select ${deliveryColumns} from deliveries d
    where ${visibleTo(caller)} and ${where} and ${cursor} order by d.seq desc limit ${limit + 1}`);
  return pageOf(rows, limit);
}
