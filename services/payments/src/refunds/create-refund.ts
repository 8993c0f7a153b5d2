// POST /payments/:id/refunds: returns all that is left of a succeeded payment, or part of it.
// The payment row is locked for the whole refund, so concurrent refunds are applied one after the
// other and their total can never pass what was received (the table's check says so too). The
// money goes back the way it came: to the card through the processor, or to the wallet.
import { mayActFor, type Caller } from '@paymesh/platform/auth/caller';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import { paymentsErrors } from '../errors.ts';
import type { Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import { accounts } from '../ledger/ledger-accounts.ts';
import { formatAmount } from '../money/parse-amount.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { assertAction } from '../payments/payment-status.ts';
import { lockPayment } from '../payments/payment-store.ts';
import { newRefundId, publicRefund, refundColumns, refundEventData, type RefundRow } from './refund.ts';

export async function createRefund(ctx: PaymentsContext, caller: Caller, paymentId: string, amount: bigint | undefined, reason: string | undefined, store: StoreOutcome): Promise<Outcome> {
  const { row, outcome } = await ctx.db.transaction(async (tx) => {
    const payment = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
    assertAction(payment.status, 'refund');
    const currency = payment.currency.trim();
    const refundable = BigInt(payment.amount_received) - BigInt(payment.amount_refunded);
    if (refundable === 0n) throw paymentsErrors.alreadyRefunded();
    const refunded = amount ?? refundable;
    if (refunded > refundable) throw paymentsErrors.amountTooLarge('amount', `Refund amount ${formatAmount(refunded, currency)} is greater than what is left to refund (${formatAmount(refundable, currency)}).`);
    const id = newRefundId();
    let status: RefundRow['status'] = 'succeeded';
    let failure: string | null = null;
    let processorRefund: string | null = null;
    if (payment.processor_authorization !== null) {
      const result = await ctx.processor.refund({ authorization: payment.processor_authorization, amountMinor: refunded, currency, idempotencyKey: id });
      if (result.status === 'failed') [status, failure] = ['failed', result.reason];
      else processorRefund = result.refund;
    }
    let transferId: string | null = null;
    if (status === 'succeeded') {
      transferId = await ctx.ledger.transfer(tx, {
        debit: accounts.refunds(currency),
        credit: payment.payment_method_type === 'wallet' ? accounts.wallet(payment.user_id, currency) : accounts.processorClearing(currency),
        amountMinor: refunded,
        currency,
        kind: 'refund',
        paymentId: payment.id,
        reference: id,
      });
      await tx.execute(sql`update payments set amount_refunded = amount_refunded + ${refunded.toString()}::bigint, updated_at = now() where id = ${payment.id}`);
    }
    const [row] = await queryRows<RefundRow>(tx, sql`
      insert into refunds (id, payment_id, amount_minor, currency, status, reason, failure_reason, transfer_id, processor_refund, created_by)
      values (${id}, ${payment.id}, ${refunded.toString()}::bigint, ${currency}, ${status}, ${reason ?? null}, ${failure}, ${transferId}, ${processorRefund}, ${`${caller.kind}:${caller.subject}`})
      returning ${refundColumns}`);
    const data = refundEventData(row!, payment.user_id);
    await enqueueEvent(tx, 'refund.created', data);
    await enqueueEvent(tx, `refund.${status}`, data);
    const outcome = status === 'succeeded'
      ? { status: 200, body: JSON.stringify(publicRefund(row!)) }
      : { status: 402, body: JSON.stringify(paymentsErrors.refundFailed(failure!, { refund: publicRefund(row!) }).toBody()) };
    await store(tx, outcome);
    return { row: row!, outcome };
  });
  ctx.runtime.relay.kick();
  if (row.status === 'succeeded') ctx.metrics.refunded.inc({ currency: row.currency.trim() }, Number(row.amount_minor));
  return outcome;
}
