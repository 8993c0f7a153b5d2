// The contract's payment: the payment row, a balanced ledger transfer and the outbox event,
// written in one transaction, so that none exists without the others.
import { randomBytes } from 'node:crypto';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import { postTransfer, systemAccounts } from '../ledger/post-transfer.ts';
import { formatAmount } from '../money/parse-amount.ts';
import type { PaymentRow } from './payment.ts';

export interface NewPayment {
  readonly userId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly description: string | undefined;
  readonly createdBy: string;
}

export function newPaymentId(): string {
  return `pay_${randomBytes(12).toString('base64url')}`;
}

/**
 * `inTransaction` runs last, inside the same transaction (the idempotency key stores its response
 * there, so a committed payment always has it).
 */
export async function createPayment(db: Db, input: NewPayment, inTransaction?: (tx: Db, payment: PaymentRow) => Promise<void>): Promise<PaymentRow> {
  return db.transaction(async (tx) => {
    const id = newPaymentId();
    const [payment] = await queryRows<PaymentRow>(tx, sql`
      insert into payments (id, user_id, amount_minor, currency, status, description, created_by)
      values (${id}, ${input.userId}, ${input.amountMinor.toString()}::bigint, ${input.currency}, 'succeeded', ${input.description ?? null}, ${input.createdBy})
      returning id, seq, user_id, amount_minor, currency, status, description, created_at`);
    await postTransfer(tx, {
      debitAccount: systemAccounts.processorClearing(input.currency),
      creditAccount: systemAccounts.platformRevenue(input.currency),
      amountMinor: input.amountMinor,
      currency: input.currency,
      paymentId: id,
      kind: 'payment',
    });
    await enqueueEvent(tx, 'payment.succeeded', {
      payment_id: id,
      user_id: Number(input.userId),
      amount_minor: input.amountMinor.toString(),
      currency: input.currency,
      amount_display: formatAmount(input.amountMinor, input.currency),
    });
    await inTransaction?.(tx, payment!);
    return payment!;
  });
}
