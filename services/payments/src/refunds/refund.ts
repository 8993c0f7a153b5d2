import { randomBytes } from 'node:crypto';
import { sql } from '@paymesh/platform/db/open-database';
import { formatAmount, publicAmount } from '../money/parse-amount.ts';

export interface RefundRow {
  id: string;
  payment_id: string;
  amount_minor: string;
  currency: string;
  status: 'pending' | 'succeeded' | 'failed';
  reason: string | null;
  failure_reason: string | null;
  created_at: string | Date;
}

export const refundColumns = sql.raw('id, payment_id, amount_minor, currency, status, reason, failure_reason, created_at');
export const refundReasons = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

export function newRefundId(): string {
  return `re_${randomBytes(12).toString('base64url')}`;
}

export function publicRefund(row: RefundRow) {
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
