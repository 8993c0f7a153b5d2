// The payment as stored, as the API shows it, and as its events carry it.
import { isAdmin, type Caller } from '@paymesh/platform/auth/caller';
import { sql } from '@paymesh/platform/db/open-database';
import { formatAmount, publicAmount } from '../money/parse-amount.ts';
import type { PaymentStatus } from './payment-status.ts';

export interface PaymentRow {
  id: string;
  seq: string;
  user_id: string;
  amount_minor: string;
  currency: string;
  status: PaymentStatus;
  description: string | null;
  created_by: string;
  capture_method: 'automatic' | 'manual';
  payment_method_type: 'card' | 'wallet' | null;
  payment_method_id: string | null;
  payment_method: Record<string, unknown> | null;
  processor_authorization: string | null;
  authorization_transfer_id: string | null;
  amount_capturable: string;
  amount_received: string;
  amount_refunded: string;
  last_payment_error: Record<string, unknown> | null;
  next_action: Record<string, unknown> | null;
  cancellation_reason: string | null;
  canceled_at: string | Date | null;
  created_at: string | Date;
}

export const paymentColumns = sql.raw(`id, seq, user_id, amount_minor, currency, status, description, created_by, capture_method, payment_method_type,
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

/** The payment object of the API (Stripe-like: amounts in minor units, plus the exact decimal). */
export function publicPayment(row: PaymentRow) {
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
