// POST /payments/:id/capture: takes all of an authorised amount or part of it; the rest is
// released. A card capture is recorded as an attempt (one per payment in doubt at a time) before
// the processor is called outside any transaction; the pending transfer is then posted, wholly or
// partly, in the transaction that forgets the attempt. A capture whose request died is resumed by
// its retry with the same processor key, or completed by the reconciler: the processor has taken
// the money, so the books follow.
import type { Caller } from '@paymesh/platform/auth/caller';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { PaymentCaptured, PaymentSucceeded } from '../events.ts';
import { paymentsErrors } from '../errors.ts';
import type { Hold, Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import { formatAmount } from '../money/parse-amount.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { adoptAttempt, callProcessor, finishAttempt, processorKey, startAttempt } from '../processor/processor-attempt.ts';
import { giveUpAttempt } from '../processor/reverse-attempt.ts';
import { controlsAuthorization, paymentColumns, paymentEventData, publicPayment, type PaymentRow } from './payment.ts';
import { assertAction, assertTransition } from './payment-status.ts';
import { findPayment, lockPayment } from './payment-store.ts';

export async function capturePayment(ctx: PaymentsContext, caller: Caller, paymentId: string, amountToCapture: bigint | undefined, hold: Hold, store: StoreOutcome): Promise<Outcome> {
  const payment = await findPayment(ctx.db, paymentId);
  if (payment === undefined || !mayActFor(caller, payment.user_id)) throw paymentsErrors.paymentNotFound();
  if (!controlsAuthorization(caller, payment)) throw paymentsErrors.notYourAuthorization();
  assertAction(payment.status, 'capture');
  assertTransition(payment.status, 'succeeded', 'capture');
  const capturable = BigInt(payment.amount_capturable);
  const currency = payment.currency.trim();
  const requested = amountToCapture ?? capturable;
  if (requested > capturable) throw paymentsErrors.amountTooLarge('amount_to_capture', `amount_to_capture must be at most ${formatAmount(capturable, currency)}, the amount authorized.`);

  /** Records the capture if the payment still awaits one: one transaction, the payment row locked. */
  const record = (captured: bigint, finish?: (tx: Db) => Promise<void>) => ctx.db.transaction(async (tx) => {
    const locked = await lockPayment(tx, paymentId, (p) => mayActFor(caller, p.user_id));
    if (locked.status !== 'requires_capture') throw paymentsErrors.unexpectedState('capture', locked.status);
    const row = await recordCapture(ctx, tx, locked, captured);
    const outcome = { status: 200, body: JSON.stringify(publicPayment(row)) };
    await store(tx, outcome);
    await finish?.(tx);
    return { row, captured, outcome };
  });

  let result: { row: PaymentRow; captured: bigint; outcome: Outcome };
  const authorization = payment.processor_authorization;
  if (authorization === null) {
    result = await record(requested); // a wallet hold: the ledger alone
  } else {
    const adopted = hold.takenOver ? await adoptAttempt(ctx.db, hold.lease, 'capture') : undefined;
    if (adopted !== undefined) ctx.metrics.resumedAttempts.inc({ operation: 'capture' });
    const attempt = adopted ?? await startAttempt(ctx.db, hold.lease, { operation: 'capture', targetId: payment.id, authorization, amountMinor: requested, currency }, 'requires_capture');
    if (attempt === undefined) {
      const now = await findPayment(ctx.db, paymentId);
      throw paymentsErrors.unexpectedState('capture', now?.status === 'requires_capture' ? 'processing' : (now?.status ?? payment.status));
    }
    try {
      await callProcessor(attempt, () => ctx.processor.capture({ authorization, amountMinor: attempt.amountMinor, idempotencyKey: processorKey(attempt, 'capture') }));
      result = await record(attempt.amountMinor, (tx) => finishAttempt(tx, attempt));
    } catch (error) {
      await giveUpAttempt(ctx, attempt, undefined);
      throw error;
    }
  }
  ctx.metrics.recordPayment(result.row, result.captured);
  return result.outcome;
}

/** A capture in the ledger, on the payment and in its events, the payment row locked by the caller. */
export async function recordCapture(ctx: PaymentsContext, tx: Db, payment: PaymentRow, captured: bigint): Promise<PaymentRow> {
  await ctx.ledger.postPending(tx, payment.authorization_transfer_id!, captured);
  const [row] = await queryRows<PaymentRow>(tx, sql`update payments set status = 'succeeded', amount_capturable = 0, last_payment_error = null,
    amount_received = ${captured.toString()}::bigint, updated_at = now() where id = ${payment.id} returning ${paymentColumns}`);
  const data = { ...paymentEventData(row!), amount_captured: captured.toString() };
  await enqueue(tx, PaymentCaptured, data);
  await enqueue(tx, PaymentSucceeded, data);
  return row!;
}
