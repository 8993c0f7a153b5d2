// Reading and writing payment rows. Status changes come from attempt-payment.ts and the actions,
// each checked against payment-status.ts first.
import { randomBytes } from 'node:crypto';
import { holdWrite, type HeldWrite } from '@paymesh/platform/db/held-writes';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { insertPaymentMethods } from '../payment-methods/payment-method.ts';
import type { CardMethod } from '../processor/card-details.ts';
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
  /** When it is created: the service's clock (runtime.clock), to the millisecond. */
  readonly createdAt: Date;
}

const jsonOrNull = (value: object | null) => (value === null ? null : JSON.stringify(value));

/**
 * A new payment (and its new card, if any): its row is built here as the insert stores it, so that
 * in payments' commit group the row is held and the group's payments are inserted together at its
 * end (held-writes.ts: a statement for their new cards and one for their rows, instead of two per
 * payment); outside a group, inserted at once. The row is the one the payment's response and
 * events are made of, so it must equal what a later read returns: `created_at` is set here (to the
 * millisecond a timestamptz keeps exactly), and JSON objects have jsonb's key order.
 */
export async function insertPayment(tx: Db, input: NewPaymentRow, fields: AttemptFields, card?: CardMethod): Promise<PaymentRow> {
  const row: PaymentRow = {
    id: input.id,
    user_id: input.userId,
    amount_minor: input.amountMinor.toString(),
    currency: input.currency,
    status: fields.status,
    description: input.description ?? null,
    created_by: input.createdBy,
    capture_method: input.captureMethod,
    payment_method_type: fields.payment_method_type,
    payment_method_id: fields.payment_method_id,
    payment_method: inJsonbOrder(fields.payment_method),
    processor_authorization: fields.processor_authorization,
    authorization_transfer_id: fields.authorization_transfer_id,
    amount_capturable: fields.amount_capturable.toString(),
    amount_received: fields.amount_received.toString(),
    amount_refunded: '0',
    last_payment_error: inJsonbOrder(fields.last_payment_error),
    next_action: inJsonbOrder(fields.next_action),
    cancellation_reason: null,
    canceled_at: null,
    created_at: input.createdAt,
  };
  const unit: NewPaymentWrite = { row, card };
  if (!holdWrite(newPayments, unit)) await newPayments.write(tx, [unit]);
  return row;
}

interface NewPaymentWrite { readonly row: PaymentRow; readonly card: CardMethod | undefined }

/** New payments in one statement, after their new cards in one (a payment refers to its card). */
const newPayments: HeldWrite<NewPaymentWrite> = {
  async write(tx, units) {
    await insertPaymentMethods(tx, units.flatMap(({ card }) => (card === undefined ? [] : [card])));
    const rows = units.map(({ row }, n) => ({ ...row, n, created_at: (row.created_at as Date).toISOString() }));
    const inserted = await queryRows(tx, sql`
      insert into payments (id, user_id, amount_minor, currency, status, description, created_by, capture_method, payment_method_type,
        payment_method_id, payment_method, processor_authorization, authorization_transfer_id, amount_capturable, amount_received,
        last_payment_error, next_action, created_at)
      select id, user_id, amount_minor, currency, status, description, created_by, capture_method, payment_method_type,
        payment_method_id, payment_method, processor_authorization, authorization_transfer_id, amount_capturable, amount_received,
        last_payment_error, next_action, created_at
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(n int, id text, user_id bigint, amount_minor bigint, currency text, status text,
        description text, created_by text, capture_method text, payment_method_type text, payment_method_id text, payment_method jsonb,
        processor_authorization text, authorization_transfer_id uuid, amount_capturable bigint, amount_received bigint, last_payment_error jsonb,
        next_action jsonb, created_at timestamptz)
      order by n
      returning id`);
    if (inserted.length !== units.length) throw new Error(`${inserted.length} of ${units.length} new payments inserted`);
  },
};

/**
 * `value` with its objects' keys in the order jsonb keeps them (shorter keys first, then by their
 * bytes), so that a row built in JavaScript shows them as one read back from the database does.
 */
function inJsonbOrder<T>(value: T): T {
  if (Array.isArray(value)) return value.map(inJsonbOrder) as T;
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value).sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Object.fromEntries(keys.map((key) => [key, inJsonbOrder((value as Record<string, unknown>)[key])])) as T;
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
