// POST /payments/:id/capture: takes all of an authorised amount or part of it; the rest is
// released. The pending transfer is posted (partly or wholly) in the same transaction.
import type { Caller } from '@paymesh/platform/auth/caller';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import { paymentsErrors } from '../errors.ts';
import type { Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import { formatAmount } from '../money/parse-amount.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { controlsAuthorization, paymentColumns, paymentEventData, publicPayment, type PaymentRow } from './payment.ts';
import { assertAction, assertTransition } from './payment-status.ts';
import { lockPayment } from './payment-store.ts';

export async function capturePayment(ctx: PaymentsContext, caller: Caller, paymentId: string, amountToCapture: bigint | undefined, store: StoreOutcome): Promise<Outcome> {
  const { row, captured, outcome } = await ctx.db.transaction(async (tx) => {
    const payment = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
    if (!controlsAuthorization(caller, payment)) throw paymentsErrors.notYourAuthorization();
    assertAction(payment.status, 'capture');
    assertTransition(payment.status, 'succeeded', 'capture');
    const capturable = BigInt(payment.amount_capturable);
    const captured = amountToCapture ?? capturable;
    const currency = payment.currency.trim();
    if (captured > capturable) throw paymentsErrors.amountTooLarge('amount_to_capture', `amount_to_capture must be at most ${formatAmount(capturable, currency)}, the amount authorized.`);
    if (payment.processor_authorization !== null) {
      await ctx.processor.capture({ authorization: payment.processor_authorization, amountMinor: captured, idempotencyKey: `${payment.id}:capture` });
    }
    await ctx.ledger.postPending(tx, payment.authorization_transfer_id!, captured);
    const [row] = await queryRows<PaymentRow>(tx, sql`update payments set status = 'succeeded', amount_capturable = 0,
      amount_received = ${captured.toString()}::bigint, updated_at = now() where id = ${payment.id} returning ${paymentColumns}`);
    const data = { ...paymentEventData(row!), amount_captured: captured.toString() };
    await enqueueEvent(tx, 'payment.captured', data);
    await enqueueEvent(tx, 'payment.succeeded', data);
    const outcome = { status: 200, body: JSON.stringify(publicPayment(row!)) };
    await store(tx, outcome);
    return { row: row!, captured, outcome };
  });
  ctx.runtime.relay.kick();
  ctx.metrics.recordPayment(row, captured);
  return outcome;
}
