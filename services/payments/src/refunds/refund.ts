import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@fastify/type-provider-typebox';
import { sql } from '@paymesh/platform/db/open-database';
import { literalUnion } from '@paymesh/platform/literal-union';
import { formatAmount, publicAmount, publicAmountFields, publicCurrencySchema } from '../money/parse-amount.ts';

/** pending: the processor has not answered yet (the service retries until it does). */
export const refundStatuses = ['pending', 'succeeded', 'failed'] as const;
export const refundReasons = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

export interface RefundRow {
  id: string;
  payment_id: string;
  amount_minor: string;
  currency: string;
  status: (typeof refundStatuses)[number];
  reason: (typeof refundReasons)[number] | null;
  failure_reason: string | null;
  created_at: string | Date;
}

export const refundColumns = sql.raw('id, payment_id, amount_minor, currency, status, reason, failure_reason, created_at');

export function newRefundId(): string {
  return `re_${randomBytes(12).toString('base64url')}`;
}

/** A refund as the API shows it, as publicRefund() writes it. */
export const refundSchema = Type.Object({
  id: Type.String({ description: 're_…' }),
  object: Type.Literal('refund'),
  payment_id: Type.String({ description: 'The payment refunded.' }),
  ...publicAmountFields,
  currency: publicCurrencySchema,
  status: literalUnion(refundStatuses, { description: 'pending until the processor answers (retried in the background); failed gives the amount back to what can be refunded.' }),
  reason: Type.Union([...literalUnion(refundReasons).anyOf, Type.Null()]),
  failure_reason: Type.Union([Type.String(), Type.Null()], { description: 'Why the processor refused it (status failed).' }),
  created: Type.Integer({ description: 'Unix seconds.' }),
}, { description: 'A full or partial refund of a payment\'s received amount.' });

export function publicRefund(row: RefundRow): Static<typeof refundSchema> {
  const currency = row.currency.trim();
  return {
    id: row.id,
    object: 'refund',
    payment_id: row.payment_id,
    ...publicAmount(row.amount_minor, currency),
    currency: currency.toLowerCase(),
    status: row.status,
    reason: row.reason,
    failure_reason: row.failure_reason,
    created: Math.floor(new Date(row.created_at).getTime() / 1000),
  };
}

export function refundEventData(row: RefundRow, userId: string) {
  const currency = row.currency.trim();
  return {
    refund_id: row.id,
    payment_id: row.payment_id,
    user_id: Number(userId),
    amount_minor: row.amount_minor,
    currency,
    amount_display: formatAmount(BigInt(row.amount_minor), currency),
    status: row.status,
    reason: row.reason,
  };
}
