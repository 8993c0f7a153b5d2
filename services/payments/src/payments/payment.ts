// The payment as stored, as the API shows it, and as its events carry it.
import { Type, type Static } from '@fastify/type-provider-typebox';
import { isAdmin, type Caller } from '@paymesh/platform/auth/caller';
import { sql } from '@paymesh/platform/db/open-database';
import { literalUnion } from '@paymesh/platform/literal-union';
import { formatAmount, publicAmount, publicAmountFields, publicCurrencySchema } from '../money/parse-amount.ts';
import { cardSnapshotSchema, methodSnapshotSchema, walletSnapshotSchema, type MethodSnapshot } from '../payment-methods/payment-method.ts';
import { paymentStatuses, type PaymentStatus } from './payment-status.ts';

export const cancellationReasons = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
export type CancellationReason = (typeof cancellationReasons)[number];

/** Why the last attempt failed (Stripe's `last_payment_error`); the payment stays payable with another method. */
export const lastPaymentErrorSchema = Type.Object({
  type: Type.Union([Type.Literal('card_error'), Type.Literal('invalid_request_error')]),
  code: Type.String({ description: 'card_declined, expired_card, balance_insufficient, capture_failed …' }),
  decline_code: Type.Optional(Type.String({ description: 'Why the issuer declined the card, when it said.' })),
  message: Type.String(),
  payment_method: Type.Optional(Type.Union([cardSnapshotSchema, walletSnapshotSchema], { description: 'The method that was refused; absent for a capture the processor refused.' })),
}, { description: 'Why the last attempt failed.' });
export type LastPaymentError = Static<typeof lastPaymentErrorSchema>;

/** What the payer must do before the payment can go on (requires_action). */
export const nextActionSchema = Type.Object({
  type: Type.Literal('three_d_secure'),
  message: Type.String(),
}, { description: 'The cardholder must authenticate; then confirm the payment again.' });
export type NextAction = Static<typeof nextActionSchema>;

export interface PaymentRow {
  id: string;
  user_id: string;
  amount_minor: string;
  currency: string;
  status: PaymentStatus;
  description: string | null;
  created_by: string;
  capture_method: 'automatic' | 'manual';
  payment_method_type: 'card' | 'wallet' | null;
  payment_method_id: string | null;
  payment_method: MethodSnapshot | null;
  processor_authorization: string | null;
  authorization_transfer_id: string | null;
  amount_capturable: string;
  amount_received: string;
  amount_refunded: string;
  last_payment_error: LastPaymentError | null;
  next_action: NextAction | null;
  cancellation_reason: CancellationReason | null;
  canceled_at: string | Date | null;
  created_at: string | Date;
}

export const paymentColumns = sql.raw(`id, user_id, amount_minor, currency, status, description, created_by, capture_method, payment_method_type,
  payment_method_id, payment_method, processor_authorization, authorization_transfer_id, amount_capturable, amount_received,
  amount_refunded, last_payment_error, next_action, cancellation_reason, canceled_at, created_at`);

/**
 * Who decides what becomes of an authorisation (capture it, or cancel it): the merchant side
 * (admins and services), and the payer only for a payment they created themselves. A payer must
 * not be able to capture one cent of, or release, a hold that the platform placed on their card.
 */
export function controlsAuthorization(caller: Caller, row: PaymentRow): boolean {
  return isAdmin(caller) || caller.kind === 'service' || row.created_by === `user:${caller.subject}`;
}

const epochSeconds = (value: string | Date) => Math.floor(new Date(value).getTime() / 1000);

const minorUnits = (description: string) => Type.Integer({ minimum: 0, description: `${description}, in minor units.` });

/** The payment object of the API, as publicPayment() writes it. */
export const paymentSchema = Type.Object({
  id: Type.String({ description: 'pay_…' }),
  object: Type.Literal('payment'),
  user_id: Type.Integer({ minimum: 1, description: 'The user who pays.' }),
  ...publicAmountFields,
  amount_capturable: minorUnits('Authorised and not yet captured (requires_capture)'),
  amount_received: minorUnits('Received: captured or paid'),
  amount_refunded: minorUnits('Refunded, pending refunds included'),
  currency: publicCurrencySchema,
  status: literalUnion(paymentStatuses, { description: 'Where the payment is in its lifecycle; succeeded and canceled are final.' }),
  capture_method: Type.Union([Type.Literal('automatic'), Type.Literal('manual')], { description: 'manual: an authorisation, captured by POST /payments/{id}/capture.' }),
  payment_method: Type.Union([...methodSnapshotSchema.anyOf, Type.Null()], { description: 'The method the payment holds or was paid with; null before one is given, and after a failed attempt.' }),
  last_payment_error: Type.Union([lastPaymentErrorSchema, Type.Null()]),
  next_action: Type.Union([nextActionSchema, Type.Null()]),
  cancellation_reason: Type.Union([...literalUnion(cancellationReasons).anyOf, Type.Null()]),
  canceled_at: Type.Union([Type.Integer(), Type.Null()], { description: 'When it was canceled, in Unix seconds.' }),
  description: Type.Union([Type.String(), Type.Null()]),
  created: Type.Integer({ description: 'Unix seconds.' }),
}, { description: 'A payment, with Stripe\'s PaymentIntent semantics: amounts in minor units, plus the exact decimal and a display form.' });
export type Payment = Static<typeof paymentSchema>;

/** The payment object of the API (Stripe-like: amounts in minor units, plus the exact decimal). */
export function publicPayment(row: PaymentRow): Payment {
  const currency = row.currency.trim();
  return {
    id: row.id,
    object: 'payment',
    user_id: Number(row.user_id),
    ...publicAmount(row.amount_minor, currency),
    amount_capturable: Number(row.amount_capturable),
    amount_received: Number(row.amount_received),
    amount_refunded: Number(row.amount_refunded),
    currency: currency.toLowerCase(),
    status: row.status,
    capture_method: row.capture_method,
    payment_method: row.payment_method,
    last_payment_error: row.last_payment_error,
    next_action: row.next_action,
    cancellation_reason: row.cancellation_reason,
    canceled_at: row.canceled_at === null ? null : epochSeconds(row.canceled_at),
    description: row.description,
    created: epochSeconds(row.created_at),
  };
}

/** What every payment.* event carries: enough for a consumer to act, nothing of the card. */
/** The decline code when the processor gave one (a wallet refusal has none). */
function declineCode(error: Record<string, unknown>): { decline_code?: string } {
  return typeof error.decline_code === 'string' ? { decline_code: error.decline_code } : {};
}

export function paymentEventData(row: PaymentRow) {
  const currency = row.currency.trim();
  return {
    payment_id: row.id,
    user_id: Number(row.user_id),
    status: row.status,
    amount_minor: row.amount_minor,
    amount_received: row.amount_received,
    amount_refunded: row.amount_refunded,
    currency,
    amount_display: formatAmount(BigInt(row.amount_minor), currency),
    payment_method_type: row.payment_method_type,
    ...(row.last_payment_error === null ? {} : { failure_code: String(row.last_payment_error.code), ...declineCode(row.last_payment_error) }),
  };
}
