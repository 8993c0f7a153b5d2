// POST /payments/:id/cancel: a payment that has not succeeded is canceled; an authorisation is
// released at the processor and its pending transfer voided, in the same transaction.
import type { Caller } from '@paymesh/platform/auth/caller';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import type { Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { controlsAuthorization, paymentColumns, paymentEventData, publicPayment, type PaymentRow } from './payment.ts';
import { paymentsErrors } from '../errors.ts';
import { assertAction, assertTransition } from './payment-status.ts';
import { lockPayment } from './payment-store.ts';

export const cancellationReasons = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;

export async function cancelPayment(ctx: PaymentsContext, caller: Caller, paymentId: string, reason: string | undefined, store: StoreOutcome): Promise<Outcome> {
  const { row, outcome } = await ctx.db.transaction(async (tx) => {
    const payment = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
    if (payment.status === 'requires_capture' && !controlsAuthorization(caller, payment)) throw paymentsErrors.notYourAuthorization();
    assertAction(payment.status, 'cancel');
    assertTransition(payment.status, 'canceled', 'cancel');
    if (payment.status === 'requires_capture') await ctx.ledger.voidPending(tx, payment.authorization_transfer_id!);
    const [row] = await queryRows<PaymentRow>(tx, sql`update payments set status = 'canceled', amount_capturable = 0, next_action = null,
      cancellation_reason = ${reason ?? null}, canceled_at = now(), updated_at = now() where id = ${payment.id} returning ${paymentColumns}`);
    await enqueueEvent(tx, 'payment.canceled', paymentEventData(row!));
    const outcome = { status: 200, body: JSON.stringify(publicPayment(row!)) };
    await store(tx, outcome);
    return { row: row!, outcome };
  });
  ctx.runtime.relay.kick();
  ctx.metrics.recordPayment(row);
  // Released at the processor once the cancel is recorded: had the transaction failed after a
  // void, the payment would hold an authorisation that no longer exists. A void that fails here
  // only leaves a hold that the processor lets expire; it is logged.
  if (row.processor_authorization !== null) {
    await ctx.processor.void({ authorization: row.processor_authorization, idempotencyKey: `${row.id}:void` })
      .catch((error: unknown) => ctx.runtime.logger.warn({ err: error, payment: row.id }, 'void at the processor failed; the authorisation will expire'));
  }
  return outcome;
}
