// Payment methods: a card as the processor's token plus what people recognise it by, or the
// user's wallet. How a request names one (`payment_method` in a body) is resolved here.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@fastify/type-provider-typebox';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { paymentsErrors } from '../errors.ts';
import type { CardProcessor } from '../processor/card-processor.ts';
import { testPaymentMethods } from '../processor/test-card-processor.ts';
import { cardSummarySchema, checkCardDetails, summarizeCard, type CardBrand, type CardDetails, type CardMethod, type CardSummary } from '../processor/card-details.ts';

export interface PaymentMethodRow {
  id: string;
  user_id: string;
  brand: CardBrand;
  last4: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  processor_token: string;
  saved: boolean;
  created_at: string | Date;
}

export const paymentMethodColumns = sql.raw('id, user_id, brand, last4, exp_month, exp_year, fingerprint, processor_token, saved, created_at');

/** A payment method as a request gives it: the word "wallet", a method id, or card details. */
export type PaymentMethodInput = string | { number: string; exp_month: number; exp_year: number; cvc: string };

/** The request's method after validation, before anything is executed. */
export type RequestedMethod =
  | { readonly kind: 'wallet' }
  | { readonly kind: 'card'; readonly card: CardDetails }
  | { readonly kind: 'saved'; readonly row: PaymentMethodRow };


export function newPaymentMethodId(): string {
  return `pm_${randomBytes(12).toString('base64url')}`;
}

/** Validates the method (card checks, ownership of a saved one): a failure here stores nothing. */
export async function requestedMethod(db: Db, input: PaymentMethodInput, userId: string): Promise<RequestedMethod> {
  if (typeof input === 'object') return { kind: 'card', card: checkCardDetails(input) };
  if (input === 'wallet') return { kind: 'wallet' };
  const testNumber = Object.hasOwn(testPaymentMethods, input) ? testPaymentMethods[input] : undefined;
  if (testNumber !== undefined) return { kind: 'card', card: { number: testNumber, expMonth: 12, expYear: new Date().getUTCFullYear() + 1, cvc: '123' } };
  const [row] = await queryRows<PaymentMethodRow>(db, sql`select ${paymentMethodColumns} from payment_methods
    where id = ${input} and user_id = ${userId} and saved and detached_at is null`);
  // Another user's method is as absent as an unknown one.
  if (row === undefined) throw paymentsErrors.paymentMethodNotFound();
  return { kind: 'saved', row };
}

/** Hands new card details to the processor; a saved method is ready as it is. */
export async function cardMethod(processor: CardProcessor, method: Exclude<RequestedMethod, { kind: 'wallet' }>, userId: string, fingerprintKey: string, saved = false): Promise<CardMethod> {
  if (method.kind === 'saved') return { id: method.row.id, token: method.row.processor_token, summary: summaryOf(method.row) };
  return {
    id: newPaymentMethodId(),
    token: await processor.tokenize(method.card),
    summary: summarizeCard(method.card, fingerprintKey),
    insert: { userId, processor: processor.name, saved },
  };
}

export async function insertPaymentMethod(tx: Db, method: CardMethod): Promise<PaymentMethodRow | undefined> {
  if (method.insert === undefined) return undefined;
  const { summary } = method;
  const [row] = await queryRows<PaymentMethodRow>(tx, sql`
    insert into payment_methods (id, user_id, type, brand, last4, exp_month, exp_year, fingerprint, processor, processor_token, saved)
    values (${method.id}, ${method.insert.userId}, 'card', ${summary.brand}, ${summary.last4}, ${summary.exp_month}, ${summary.exp_year}, ${summary.fingerprint}, ${method.insert.processor}, ${method.token}, ${method.insert.saved})
    returning ${paymentMethodColumns}`);
  return row;
}

/** The new ones among `methods` in one statement (a commit group's new payments' cards; payment-store.ts). */
export async function insertPaymentMethods(tx: Db, methods: readonly CardMethod[]): Promise<void> {
  const rows = methods.flatMap(({ id, token, summary, insert }) => (insert === undefined ? [] : [{
    id, user_id: insert.userId, brand: summary.brand, last4: summary.last4, exp_month: summary.exp_month, exp_year: summary.exp_year,
    fingerprint: summary.fingerprint, processor: insert.processor, processor_token: token, saved: insert.saved,
  }]));
  if (rows.length === 0) return;
  await tx.execute(sql`insert into payment_methods (id, user_id, type, brand, last4, exp_month, exp_year, fingerprint, processor, processor_token, saved)
    select id, user_id, 'card', brand, last4, exp_month, exp_year, fingerprint, processor, processor_token, saved
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(id text, user_id bigint, brand text, last4 text, exp_month int, exp_year int,
      fingerprint text, processor text, processor_token text, saved boolean)`);
}

export function summaryOf(row: PaymentMethodRow): CardSummary {
  return { brand: row.brand, last4: row.last4, exp_month: Number(row.exp_month), exp_year: Number(row.exp_year), fingerprint: row.fingerprint };
}

/** A card as a payment or top-up shows it, kept with it (its saved method may be deleted later). */
export const cardSnapshotSchema = Type.Object({
  id: Type.String({ description: 'The payment method\'s id (pm_…).' }),
  type: Type.Literal('card'),
  card: cardSummarySchema,
});
export const walletSnapshotSchema = Type.Object({ type: Type.Literal('wallet') });
/** What a payment shows of its method: the card it was attempted with, or the wallet. */
export const methodSnapshotSchema = Type.Union([cardSnapshotSchema, walletSnapshotSchema]);
export type CardSnapshot = Static<typeof cardSnapshotSchema>;
export type MethodSnapshot = Static<typeof methodSnapshotSchema>;

/** What a payment or top-up shows of its method. */
export function methodSnapshot(method: CardMethod | 'wallet'): MethodSnapshot {
  return method === 'wallet' ? { type: 'wallet' } : { id: method.id, type: 'card', card: method.summary };
}

/** A saved card as the API shows it (POST and GET /payment_methods). */
export const savedPaymentMethodSchema = Type.Object({
  id: Type.String({ description: 'pm_…' }),
  object: Type.Literal('payment_method'),
  type: Type.Literal('card'),
  user_id: Type.Integer({ minimum: 1, description: 'The user the card belongs to.' }),
  card: cardSummarySchema,
  created: Type.Integer({ description: 'When it was saved, in Unix seconds.' }),
}, { description: 'A card saved for a user; payments name it by its id. The number and CVC went to the processor only.' });

/** DELETE /payment_methods/:id's answer. */
export const deletedPaymentMethodSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal('payment_method'),
  deleted: Type.Literal(true),
}, { description: 'The payment method was detached: it can no longer pay; payments made with it keep their snapshot of the card.' });

export function publicPaymentMethod(row: PaymentMethodRow): Static<typeof savedPaymentMethodSchema> {
  return { id: row.id, object: 'payment_method', type: 'card', user_id: Number(row.user_id), card: summaryOf(row), created: Math.floor(new Date(row.created_at).getTime() / 1000) };
}

/** The method a payment already holds (saved or given for that payment), unless its owner has deleted it since. */
export async function heldCardMethod(db: Db, id: string): Promise<CardMethod> {
  const [row] = await queryRows<PaymentMethodRow>(db, sql`select ${paymentMethodColumns} from payment_methods where id = ${id} and detached_at is null`);
  if (row === undefined) throw paymentsErrors.paymentMethodDetached();
  return { id: row.id, token: row.processor_token, summary: summaryOf(row) };
}
