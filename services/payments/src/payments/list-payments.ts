// Cursor pagination on Stripe's model: newest first, `starting_after` an id from the previous
// page, `has_more`. The cursor is resolved inside the same user's list, so another user's
// payment id is no cursor here.
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { paymentsErrors } from '../errors.ts';
import type { PaymentRow } from './payment.ts';

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
    const [cursor] = await queryRows<{ seq: string }>(db, sql`select seq from payments where id = ${options.startingAfter} and ${userFilter}`);
    if (cursor === undefined) throw paymentsErrors.invalidCursor();
    cursorFilter = sql`seq < ${cursor.seq}`;
  }
  const rows = await queryRows<PaymentRow>(db, sql`
    select id, seq, user_id, amount_minor, currency, status, description, created_at from payments
    where ${userFilter} and ${statusFilter} and ${fromFilter} and ${toFilter} and ${cursorFilter} order by seq desc limit ${options.limit + 1}`);
  return { rows: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
}
