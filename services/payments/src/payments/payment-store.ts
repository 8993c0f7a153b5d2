// Reading and writing payment rows. Status changes come from attempt-payment.ts and the actions,
// each checked against payment-status.ts first.
import { randomBytes } from 'node:crypto';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { paymentsErrors } from '../errors.ts';
import type { AttemptFields } from './attempt-payment.ts';
import { paymentColumns, type PaymentRow } from './payment.ts';

export function newPaymentId(): string {
  return `pay_${randomBytes(12).toString('base64url')}`;
}

export interface NewPaymentRow {
  readonly id: string;
  readonly userId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly description: string | undefined;
  readonly captureMethod: 'automatic' | 'manual';
  readonly createdBy: string;
}

const jsonOrNull = (value: object | null) => (value === null ? null : JSON.stringify(value));

export async function insertPayment(tx: Db, input: NewPaymentRow, fields: AttemptFields): Promise<PaymentRow> {
  const [row] = await queryRows<PaymentRow>(tx, sql`
    insert into payments (id, user_id, amount_minor, currency, status, description, created_by, capture_method, payment_method_type,
      payment_method_id, payment_method, processor_authorization, authorization_transfer_id, amount_capturable, amount_received,
      last_payment_error, next_action)
    values (${input.id}, ${input.userId}, ${input.amountMinor.toString()}::bigint, ${input.currency}, ${fields.status}, ${input.description ?? null},
      ${input.createdBy}, ${input.captureMethod}, ${fields.payment_method_type}, ${fields.payment_method_id}, ${jsonOrNull(fields.payment_method)}::jsonb,
      ${fields.processor_authorization}, ${fields.authorization_transfer_id}, ${fields.amount_capturable.toString()}::bigint,
      ${fields.amount_received.toString()}::bigint, ${jsonOrNull(fields.last_payment_error)}::jsonb, ${jsonOrNull(fields.next_action)}::jsonb)
    returning ${paymentColumns}`);
  return row!;
}

export async function updatePaymentAttempt(tx: Db, id: string, fields: AttemptFields): Promise<PaymentRow> {
  const [row] = await queryRows<PaymentRow>(tx, sql`
    update payments set status = ${fields.status}, payment_method_type = ${fields.payment_method_type}, payment_method_id = ${fields.payment_method_id},
      payment_method = ${jsonOrNull(fields.payment_method)}::jsonb, processor_authorization = ${fields.processor_authorization},
      authorization_transfer_id = ${fields.authorization_transfer_id}, amount_capturable = ${fields.amount_capturable.toString()}::bigint,
      amount_received = ${fields.amount_received.toString()}::bigint, last_payment_error = ${jsonOrNull(fields.last_payment_error)}::jsonb,
      next_action = ${jsonOrNull(fields.next_action)}::jsonb, updated_at = now()
    where id = ${id} returning ${paymentColumns}`);
  return row!;
}

/** The payment, locked for the rest of the transaction: actions on one payment run one at a time. */
export async function lockPayment(tx: Db, id: string, mayRead: (row: PaymentRow) => boolean): Promise<PaymentRow> {
  const [row] = await queryRows<PaymentRow>(tx, sql`select ${paymentColumns} from payments where id = ${id} for update`);
  // Another user's payment is as absent as an unknown one.
  if (row === undefined || !mayRead(row)) throw paymentsErrors.paymentNotFound();
  return row;
}

export async function findPayment(db: Db, id: string): Promise<PaymentRow | undefined> {
  const [row] = await queryRows<PaymentRow>(db, sql`select ${paymentColumns} from payments where id = ${id}`);
  return row;
}
