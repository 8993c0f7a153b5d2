// Reading saved payment methods and detaching them (a detached method stays for the payments that
// used it, and is no longer listed or usable).
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { paymentMethodColumns, type PaymentMethodRow } from './payment-method.ts';
import { pageOf } from '@paymesh/platform/pagination';
import { paymentsErrors } from '../errors.ts';

/** A saved, attached payment method by id (whoever owns it: the caller checks). */
export async function findSavedMethod(db: Db, id: string): Promise<PaymentMethodRow | undefined> {
  const [row] = await queryRows<PaymentMethodRow>(db, sql`select ${paymentMethodColumns} from payment_methods where id = ${id} and saved and detached_at is null`);
  return row;
}

/**
 * The user's saved methods, newest first, at most `limit`, after `startingAfter` (a method of this
 * user's list; one deleted since the previous page still marks the place).
 */
export async function savedMethodsOf(db: Db, userId: string, limit: number, startingAfter?: string): Promise<{ rows: PaymentMethodRow[]; hasMore: boolean }> {
  let cursorFilter = sql`true`;
  if (startingAfter !== undefined) {
    const [cursor] = await queryRows<{ created_at: string }>(db, sql`select created_at::text from payment_methods where id = ${startingAfter} and user_id = ${userId} and saved`);
    if (cursor === undefined) throw paymentsErrors.invalidCursor();
    cursorFilter = sql`(created_at < ${cursor.created_at}::timestamptz or (created_at = ${cursor.created_at}::timestamptz and id > ${startingAfter}))`;
  }
  const rows = await queryRows<PaymentMethodRow>(db, sql`select ${paymentMethodColumns} from payment_methods
    where user_id = ${userId} and saved and detached_at is null and ${cursorFilter} order by created_at desc, id limit ${limit + 1}`);
  return pageOf(rows, limit);
}

export async function detachMethod(db: Db, id: string): Promise<void> {
  await db.execute(sql`update payment_methods set detached_at = now() where id = ${id}`);
}
