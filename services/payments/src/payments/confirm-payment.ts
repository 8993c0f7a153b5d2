// POST /payments/:id/confirm: attempts a created payment with the method it holds or one given
// now, or completes 3-D Secure for a payment that requires_action. A card attempt is recorded
// before the processor is called and only if the payment is still in the status it was read in
// (under its row lock); one attempt per payment can be in doubt at a time, so two confirms can
// never both charge. The processor is called outside any transaction, and the outcome recorded
// in one transaction that checks the payment has not changed meanwhile (a cancel, a wallet confirm).
import type { Caller } from '@paymesh/platform/auth/caller';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { enqueue } from '@paymesh/platform/events/enqueue';
import type { Db } from '@paymesh/platform/db/open-database';
import { paymentsErrors } from '../errors.ts';
import type { Hold, Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import { cardMethod, heldCardMethod, insertPaymentMethod, type RequestedMethod } from '../payment-methods/payment-method.ts';
import type { CardMethod } from '../processor/card-details.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { finishAttempt } from '../processor/processor-attempt.ts';
import { giveUpAttempt } from '../processor/reverse-attempt.ts';
import { attemptCard, attemptEvent, attemptWallet, beginCardAttempt, cardAttemptFields, heldByCard, type AttemptFields, type AttemptTarget, type CardAttempt } from './attempt-payment.ts';
import { paymentEventData, type PaymentRow } from './payment.ts';
import { assertAction, assertTransition } from './payment-status.ts';
import { findPayment, lockPayment, updatePaymentAttempt } from './payment-store.ts';

export async function confirmPayment(ctx: PaymentsContext, caller: Caller, paymentId: string, given: RequestedMethod | undefined, hold: Hold, store: StoreOutcome, render: (row: PaymentRow) => Outcome): Promise<Outcome> {
  const payment = await findPayment(ctx.db, paymentId);
  if (payment === undefined || !mayActFor(caller, payment.user_id)) throw paymentsErrors.paymentNotFound();
  const { status } = payment;
  assertAction(status, 'confirm');
  assertTransition(status, 'processing', 'confirm');
  // Completing 3-D Secure re-attempts the card the cardholder authenticated; nothing else may replace it.
  const authenticated = status === 'requires_action';
  if (authenticated && given !== undefined) throw paymentsErrors.unexpectedState('change the payment method of', status);
  const target: AttemptTarget = { id: payment.id, userId: payment.user_id, amountMinor: BigInt(payment.amount_minor), currency: payment.currency.trim(), captureMethod: payment.capture_method };
  let method: (() => Promise<CardMethod>) | 'wallet';
  if (given !== undefined) method = given.kind === 'wallet' ? 'wallet' : () => cardMethod(ctx.processor, given, payment.user_id, ctx.config.fingerprintKey);
  else if (payment.payment_method_type === 'wallet') method = 'wallet';
  else if (payment.payment_method_id !== null) method = () => heldCardMethod(ctx.db, payment.payment_method_id!);
  else throw paymentsErrors.paymentMethodRequired();

  /** Records the attempt's outcome if the payment is still as it was read: one transaction, the payment row locked. */
  const record = (attempt: (tx: Db) => Promise<AttemptFields>, finish?: (tx: Db) => Promise<void>) => ctx.db.transaction(async (tx) => {
    const locked = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
    if (locked.status !== status) throw paymentsErrors.unexpectedState('confirm', locked.status);
    const fields = await attempt(tx);
    assertTransition('processing', fields.status, 'confirm');
    const row = await updatePaymentAttempt(tx, payment.id, fields);
    await enqueue(tx, attemptEvent(fields), paymentEventData(row));
    const outcome = render(row);
    await store(tx, outcome);
    await finish?.(tx);
    return { row, outcome };
  });

  let result: { row: PaymentRow; outcome: Outcome };
  if (method === 'wallet') {
    result = await record((tx) => attemptWallet(tx, ctx.ledger, target));
  } else {
    const attempt = await beginCardAttempt(ctx, hold, target, authenticated, method, status);
    if (attempt === undefined) {
      // Another attempt on this payment is in doubt, or the payment changed since it was read.
      const now = await findPayment(ctx.db, paymentId);
      throw paymentsErrors.unexpectedState('confirm', now?.status === status ? 'processing' : (now?.status ?? status));
    }
    let answer: CardAttempt | undefined;
    try {
      answer = await attemptCard(ctx, attempt);
      const card = attempt.method;
      result = await record(async (tx) => {
        await insertPaymentMethod(tx, card);
        const recorded = cardAttemptFields(target, card, answer!);
        await recorded.post?.(tx, ctx.ledger);
        return recorded.fields;
      }, (tx) => finishAttempt(tx, attempt));
    } catch (error) {
      await giveUpAttempt(ctx, attempt, heldByCard(answer));
      throw error;
    }
  }
  ctx.metrics.recordPayment(result.row, BigInt(result.row.amount_received));
  return result.outcome;
}
