// Reading a payment's refunds.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { refundColumns, type RefundRow } from './refund.ts';

/** The payment's refunds, newest first. */
export function refundsOf(db: Db, paymentId: string): Promise<RefundRow[]> {
  return queryRows<RefundRow>(db, sql`select ${refundColumns} from refunds where payment_id = ${paymentId} order by seq desc`);
}
