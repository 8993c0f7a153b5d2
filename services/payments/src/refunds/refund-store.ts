// Reading a payment's refunds.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { pageOf } from '@paymesh/platform/pagination';
import { paymentsErrors } from '../errors.ts';
import { refundColumns, type RefundRow } from './refund.ts';

/**
 * The payment's refunds, newest first, at most `limit`, after `startingAfter` (a refund of this
 * payment; refunds are never deleted, so the place it marks stays).
 */
export async function refundsOf(db: Db, paymentId: string, limit: number, startingAfter?: string): Promise<{ rows: RefundRow[]; hasMore: boolean }> {
  let cursorFilter = sql`true`;
  if (startingAfter !== undefined) {
    const [cursor] = await queryRows<{ seq: string }>(db, sql`select seq::text from refunds where id = ${startingAfter} and payment_id = ${paymentId}`);
    if (cursor === undefined) throw paymentsErrors.invalidCursor();
    cursorFilter = sql`seq < ${cursor.seq}::bigint`;
  }
  const rows = await queryRows<RefundRow>(db, sql`select ${refundColumns} from refunds where payment_id = ${paymentId} and ${cursorFilter} order by seq desc limit ${limit + 1}`);
  return pageOf(rows, limit);
}
