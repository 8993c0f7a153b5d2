import { formatAmount, toDecimalString } from '../money/parse-amount.ts';

export interface PaymentRow {
  id: string;
  seq: string;
  user_id: string;
  amount_minor: string;
  currency: string;
  status: 'succeeded';
  description: string | null;
  created_at: string | Date;
}

/** The payment object of the API (Stripe-like: `amount` in minor units, plus the decimal). */
export function publicPayment(row: PaymentRow) {
  const currency = row.currency.trim();
  const minor = BigInt(row.amount_minor);
  return {
    id: row.id,
    object: 'payment',
    user_id: Number(row.user_id),
    amount: Number(minor),
    amount_decimal: toDecimalString(minor, currency),
    amount_display: formatAmount(minor, currency),
    currency: currency.toLowerCase(),
    status: row.status,
    description: row.description,
    created: Math.floor(new Date(row.created_at).getTime() / 1000),
  };
}
