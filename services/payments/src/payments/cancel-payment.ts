// POST /payments/:id/cancel: a payment that has not succeeded is canceled; an authorisation's
// pending transfer is voided in the same transaction, and released at the processor after the
// commit. The void is recorded as an attempt in that transaction, so that a crash before it
// reaches the processor leaves it for the reconciler instead of a hold nobody releases.
import type { Caller } from '@paymesh/platform/auth/caller';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { PaymentCanceled } from '../events.ts';
import type { Hold, Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { callProcessor, dropAttempt, processorKey, startAttempt, type ProcessorAttempt } from '../processor/processor-attempt.ts';
import { controlsAuthorization, paymentColumns, paymentEventData, publicPayment, type CancellationReason, type PaymentRow } from './payment.ts';
import { paymentsErrors } from '../errors.ts';
import { assertAction, assertTransition } from './payment-status.ts';
import { lockPayment } from './payment-store.ts';

export async function cancelPayment(ctx: PaymentsContext, caller: Caller, paymentId: string, reason: CancellationReason | undefined, hold: Hold, store: StoreOutcome): Promise<Outcome> {
  const { row, outcome, voiding } = await ctx.db.transaction(async (tx) => {
    const payment = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
    if (payment.status === 'requires_capture' && !controlsAuthorization(caller, payment)) throw paymentsErrors.notYourAuthorization();
    assertAction(payment.status, 'cancel');
    assertTransition(payment.status, 'canceled', 'cancel');
    let voiding: ProcessorAttempt | undefined;
    if (payment.status === 'requires_capture') {
      await ctx.ledger.voidPending(tx, payment.authorization_transfer_id!);
      if (payment.processor_authorization !== null) {
        voiding = await startAttempt(tx, hold.lease, { operation: 'void', targetId: payment.id, authorization: payment.processor_authorization });
        // A capture of this authorisation is in doubt: the processor may have taken the money.
        if (voiding === undefined) throw paymentsErrors.unexpectedState('cancel', 'processing');
      }
    }
    const [row] = await queryRows<PaymentRow>(tx, sql`update payments set status = 'canceled', amount_capturable = 0, next_action = null,
      cancellation_reason = ${reason ?? null}, canceled_at = now(), updated_at = now() where id = ${payment.id} returning ${paymentColumns}`);
    await enqueue(tx, PaymentCanceled, paymentEventData(row!));
    const outcome = { status: 200, body: JSON.stringify(publicPayment(row!)) };
    await store(tx, outcome);
    return { row: row!, outcome, voiding };
  });
  ctx.metrics.recordPayment(row);
  // Released at the processor once the cancel is recorded: had the transaction failed after a
  // void, the payment would hold an authorisation that no longer exists. A void that fails here is
  // left to the reconciler, which voids again with the same key.
  if (voiding?.operation === 'void') {
    const attempt = voiding;
    try {
      await callProcessor(attempt, () => ctx.processor.void({ authorization: attempt.authorization, idempotencyKey: processorKey(attempt, 'void') }));
      await dropAttempt(ctx.db, attempt);
    } catch (error) {
      ctx.runtime.logger.warn({ err: error, payment: row.id, attempt: attempt.id }, 'void at the processor failed; the reconciler will void it again');
    }
  }
  return outcome;
}
