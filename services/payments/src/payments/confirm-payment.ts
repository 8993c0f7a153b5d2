// POST /payments/:id/confirm: attempts a created payment with the method it holds or one given
// now, or completes 3-D Secure for a payment that requires_action. The payment row stays locked
// for the whole attempt, processor call included, so two confirms can never both charge.
import type { Caller } from '@paymesh/platform/auth/caller';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import { paymentsErrors } from '../errors.ts';
import type { Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import { cardMethod, heldCardMethod, insertPaymentMethod, type CardMethod, type RequestedMethod } from '../payment-methods/payment-method.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { attemptCard, attemptEvent, attemptWallet, cardAttemptFields, type AttemptFields, type CardAttempt } from './attempt-payment.ts';
import { paymentEventData, type PaymentRow } from './payment.ts';
import { assertAction, assertTransition } from './payment-status.ts';
import { lockPayment, updatePaymentAttempt } from './payment-store.ts';
import { undoAtProcessor } from './undo-at-processor.ts';

export async function confirmPayment(ctx: PaymentsContext, caller: Caller, paymentId: string, given: RequestedMethod | undefined, store: StoreOutcome, render: (row: PaymentRow) => Outcome): Promise<Outcome> {
  let attempt: CardAttempt | undefined;
  let target: { id: string; amountMinor: bigint; currency: string } | undefined;
  try {
    const { row, outcome } = await ctx.db.transaction(async (tx) => {
      const payment = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
      assertAction(payment.status, 'confirm');
      assertTransition(payment.status, 'processing', 'confirm');
      // Completing 3-D Secure re-attempts the card the cardholder authenticated; nothing else may replace it.
      const authenticated = payment.status === 'requires_action';
      if (authenticated && given !== undefined) throw paymentsErrors.unexpectedState('change the payment method of', payment.status);
      const t = { id: payment.id, userId: payment.user_id, amountMinor: BigInt(payment.amount_minor), currency: payment.currency.trim(), captureMethod: payment.capture_method };
      target = t;
      let card: CardMethod | 'wallet';
      if (given !== undefined) card = given.kind === 'wallet' ? 'wallet' : await cardMethod(ctx.processor, given, payment.user_id, ctx.config.fingerprintKey);
      else if (payment.payment_method_type === 'wallet') card = 'wallet';
      else if (payment.payment_method_id !== null) card = await heldCardMethod(tx, payment.payment_method_id);
      else throw paymentsErrors.paymentMethodRequired();
      let fields: AttemptFields;
      if (card === 'wallet') {
        fields = await attemptWallet(tx, ctx.ledger, t);
      } else {
        await insertPaymentMethod(tx, card);
        attempt = await attemptCard(ctx.processor, card, t, authenticated);
        const recorded = cardAttemptFields(t, card, attempt);
        await recorded.post?.(tx, ctx.ledger);
        fields = recorded.fields;
      }
      assertTransition('processing', fields.status, 'confirm');
      const row = await updatePaymentAttempt(tx, payment.id, fields);
      await enqueueEvent(tx, attemptEvent(fields), paymentEventData(row));
      const outcome = render(row);
      await store(tx, outcome);
      return { row, outcome };
    });
    ctx.runtime.relay.kick();
    ctx.metrics.recordPayment(row, BigInt(row.amount_received));
    return outcome;
  } catch (error) {
    if (attempt !== undefined && target !== undefined) await undoAtProcessor(ctx, attempt, target.amountMinor, target.currency);
    throw error;
  }
}
