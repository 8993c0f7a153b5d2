// POST /payments/:id/cancel: a payment that has not succeeded is canceled; an authorisation is
// released at the processor and its pending transfer voided, in the same transaction.
import type { Caller } from '@paymesh/platform/auth/caller';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import type { Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { paymentColumns, paymentEventData, publicPayment, type PaymentRow } from './payment.ts';
import { assertAction, assertTransition } from './payment-status.ts';
import { lockPayment } from './payment-store.ts';

export const cancellationReasons = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;

export async function cancelPayment(ctx: PaymentsContext, caller: Caller, paymentId: string, reason: string | undefined, store: StoreOutcome): Promise<Outcome> {
  const { row, outcome } = await ctx.db.transaction(async (tx) => {
    const payment = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
    assertAction(payment.status, 'cancel');
    assertTransition(payment.status, 'canceled', 'cancel');
    if (payment.status === 'requires_capture') {
      if (payment.processor_authorization !== null) await ctx.processor.void({ authorization: payment.processor_authorization, idempotencyKey: `${payment.id}:void` });
      await ctx.ledger.voidPending(tx, payment.authorization_transfer_id!);
    }
    const [row] = await queryRows<PaymentRow>(tx, sql`update payments set status = 'canceled', amount_capturable = 0, next_action = null,
      cancellation_reason = ${reason ?? null}, canceled_at = now(), updated_at = now() where id = ${payment.id} returning ${paymentColumns}`);
    await enqueueEvent(tx, 'payment.canceled', paymentEventData(row!));
    const outcome = { status: 200, body: JSON.stringify(publicPayment(row!)) };
    await store(tx, outcome);
    return { row: row!, outcome };
  });
  ctx.runtime.relay.kick();
  ctx.metrics.recordPayment(row);
  return outcome;
}
