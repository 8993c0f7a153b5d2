// Cursor pagination on Stripe's model: newest first, `starting_after` an id from the previous
// page, `has_more`. Rows are ordered by (created_at, seq), and every filter combination has an
// index in that order (migration 0003), so a page reads `limit + 1` index entries however many
// payments exist. The cursor is resolved inside the same user's list, so another user's payment
// id is no cursor here.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { paymentsErrors } from '../errors.ts';
import { paymentColumns, type PaymentRow } from './payment.ts';
import { pageOf } from '@paymesh/platform/pagination';

export interface ListFilters {
  readonly userId: string | undefined;
  readonly status: string | undefined;
  /** Epoch seconds, inclusive (Stripe's created[gte] / created[lte]). */
  readonly createdGte: number | undefined;
  readonly createdLte: number | undefined;
}

export async function listPayments(db: Db, options: ListFilters & { limit: number; startingAfter: string | undefined }): Promise<{ rows: PaymentRow[]; hasMore: boolean }> {
  const userFilter = options.userId === undefined ? sql`true` : sql`user_id = ${options.userId}`;
  const statusFilter = options.status === undefined ? sql`true` : sql`status = ${options.status}`;
  const fromFilter = options.createdGte === undefined ? sql`true` : sql`created_at >= to_timestamp(${options.createdGte})`;
  const toFilter = options.createdLte === undefined ? sql`true` : sql`created_at < to_timestamp(${options.createdLte + 1})`;
  let cursorFilter = sql`true`;
  if (options.startingAfter !== undefined) {
    const [cursor] = await queryRows<{ seq: string; created_at: string }>(db, sql`select seq, created_at::text from payments where id = ${options.startingAfter} and ${userFilter}`);
    if (cursor === undefined) throw paymentsErrors.invalidCursor();
    cursorFilter = sql`(created_at, seq) < (${cursor.created_at}::timestamptz, ${cursor.seq}::bigint)`;
  }
  const rows = await queryRows<PaymentRow>(db, sql`
    select ${paymentColumns} from payments
    where ${userFilter} and ${statusFilter} and ${fromFilter} and ${toFilter} and ${cursorFilter}
    order by created_at desc, seq desc limit ${options.limit + 1}`);
  return pageOf(rows, options.limit);
}
