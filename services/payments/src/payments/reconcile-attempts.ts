// The reconciler settles the processor attempts nobody will record: their request died and no
// retry resumed them within PAYMENTS_ATTEMPT_GRACE_SECONDS, or giving them back failed. An
// authorisation is voided and a charge refunded (its client was never told it succeeded, so no
// payment may exist for it); a capture is completed (the merchant asked for it, the processor took
// the money, and the payment and its hold exist: the books follow); a void is made again. The
// processor is asked with each attempt's own keys, so nothing happens twice at the processor.
//
// One attempt at a time, each held only while it is settled: a batch taken at once could outlive
// its hold and be taken again by another replica, which would then settle what this one is still
// settling. Before anything is given back, the attempt (still ours?) and its payment are locked and
// read again: an authorisation or capture the payment records is never voided or refunded.
import { randomUUID } from 'node:crypto';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { PaymentFailed } from '../events.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { recordCapture } from './capture-payment.ts';
import { paymentColumns, paymentEventData, type PaymentRow } from './payment.ts';
import { lockPayment } from './payment-store.ts';
import { ProcessorUnavailableError } from '../processor/card-processor.ts';
import { authorizeRequest, countFailedTry, dropAttempt, failAttempt, finishAttempt, holdsAttempt, processorKey, takeStrandedAttempts, type AttemptParameters, type ProcessorAttempt } from '../processor/processor-attempt.ts';
import { heldBy, reverseAttempt, type Held } from '../processor/reverse-attempt.ts';

/** How long the reconciler holds the attempt it settles: far longer than settling one takes. */
const reconcilerHoldMs = 60_000;
/** Attempts settled per sweep at most; the next sweep goes on. */
const attemptsPerSweep = 100;

type Settled = 'captured' | 'refunded' | 'voided' | 'nothing' | 'recorded' | 'lost';

export async function reconcileAttempts(ctx: PaymentsContext, graceSec: number, maxTries = 5): Promise<number> {
  let settled = 0;
  for (let i = 0; i < attemptsPerSweep; i++) {
    const [attempt] = await takeStrandedAttempts(ctx.db, randomUUID(), graceSec, reconcilerHoldMs, 1);
    if (attempt === undefined) break;
    try {
      const action = await settle(ctx, attempt);
      if (action === 'lost') {
        ctx.runtime.logger.warn({ attempt: attempt.id, target: attempt.targetId }, 'a processor attempt was taken by another while it was reconciled; left to it');
        continue;
      }
      ctx.metrics.reconciledAttempts.inc({ operation: attempt.operation, action });
      ctx.runtime.logger.warn({ attempt: attempt.id, target: attempt.targetId, operation: attempt.operation, action }, 'processor attempt reconciled');
      settled++;
    } catch (error) {
      await failedTry(ctx, attempt, error, maxTries);
    }
  }
  return settled;
}

/**
 * A try that failed. An unreachable processor did nothing: tried again after the hold, uncounted.
 * Other failures are counted; a capture the processor refused `maxTries` times is marked failed (the
 * payment keeps awaiting capture, with the error, and `payment.failed` is emitted). What gives money
 * back (a void, a refund) is never given up: it is tried again and its count shows in the row.
 */
async function failedTry(ctx: PaymentsContext, attempt: ProcessorAttempt, error: unknown, maxTries: number): Promise<void> {
  const logger = ctx.runtime.logger;
  if (error instanceof ProcessorUnavailableError) {
    logger.error({ err: error, attempt: attempt.id, target: attempt.targetId }, 'reconciling a processor attempt failed: the processor is unavailable; it will be tried again');
    return;
  }
  if (attempt.operation === 'capture' && attempt.tries + 1 >= maxTries) {
    if (await failCapture(ctx, attempt, error)) {
      ctx.metrics.reconciledAttempts.inc({ operation: attempt.operation, action: 'failed' });
      logger.error({ err: error, attempt: attempt.id, payment: attempt.targetId, tries: attempt.tries + 1 }, 'a capture in doubt was refused by the processor too often; marked failed, the payment still awaits capture');
    }
    return;
  }
  await countFailedTry(ctx.db, attempt, error);
  logger.error({ err: error, attempt: attempt.id, target: attempt.targetId, tries: attempt.tries + 1 }, 'reconciling a processor attempt failed; it will be tried again');
}

function settle(ctx: PaymentsContext, attempt: ProcessorAttempt): Promise<Settled> {
  if (attempt.operation === 'capture') return completeCapture(ctx, attempt as ProcessorAttempt<Extract<AttemptParameters, { operation: 'capture' }>>);
  return giveBack(ctx, attempt);
}

/** Voids or refunds what an authorisation or void attempt holds, unless its payment records it. */
async function giveBack(ctx: PaymentsContext, attempt: ProcessorAttempt): Promise<Settled> {
  const held: Held = attempt.operation === 'authorize'
    ? heldBy(await ctx.processor.authorize(authorizeRequest(attempt as ProcessorAttempt<Extract<AttemptParameters, { operation: 'authorize' }>>)))
    : { authorization: (attempt as { authorization: string }).authorization, captured: false };
  const decision = await ctx.db.transaction(async (tx): Promise<'lost' | 'recorded' | 'give back'> => {
    if (!(await holdsAttempt(tx, attempt))) return 'lost';
    if (held === 'nothing') return 'give back';
    const payment = await lockedPaymentOf(tx, attempt.targetId);
    // The payment holds or took this authorisation: it is the books', whatever the attempt says.
    if (payment?.processor_authorization === held.authorization && (payment.status === 'requires_capture' || payment.status === 'succeeded')) {
      await tx.execute(sql`delete from processor_attempts where id = ${attempt.id} and holder = ${attempt.holder}`);
      return 'recorded';
    }
    return 'give back';
  });
  if (decision === 'recorded') ctx.runtime.logger.error({ attempt: attempt.id, payment: attempt.targetId }, 'an attempt in doubt is for an authorisation its payment records; kept, not given back');
  if (decision !== 'give back') return decision;
  // The attempt stays ours (no other attempt on the payment can begin meanwhile), so nothing can
  // record this authorisation between the check above and giving it back.
  const reversal = await reverseAttempt(ctx.processor, attempt, held);
  await dropAttempt(ctx.db, attempt);
  return reversal;
}

/** Captures again with the attempt's key (the processor answers from its first capture) and records it. */
async function completeCapture(ctx: PaymentsContext, attempt: ProcessorAttempt<Extract<AttemptParameters, { operation: 'capture' }>>): Promise<Settled> {
  const { authorization, amountMinor, currency } = attempt;
  await ctx.processor.capture({ authorization, amountMinor, idempotencyKey: processorKey(attempt, 'capture') });
  const recorded = await ctx.db.transaction(async (tx): Promise<PaymentRow | 'lost' | 'recorded' | undefined> => {
    if (!(await holdsAttempt(tx, attempt))) return 'lost';
    const payment = await lockPayment(tx, attempt.targetId, () => true);
    if (payment.status === 'requires_capture') {
      const row = await recordCapture(ctx, tx, payment, amountMinor);
      await finishAttempt(tx, attempt);
      return row;
    }
    // Already captured with this authorisation: the books have it; refunding would take it back.
    if (payment.status === 'succeeded' && payment.processor_authorization === authorization) {
      await finishAttempt(tx, attempt);
      return 'recorded';
    }
    return undefined;
  });
  if (recorded === 'lost' || recorded === 'recorded') return recorded;
  if (recorded === undefined) {
    // While the capture was in doubt nothing else could act on the authorisation (one attempt per
    // payment); a payment that was canceled meanwhile is a bug: the money goes back.
    ctx.runtime.logger.error({ attempt: attempt.id, payment: attempt.targetId }, 'a capture in doubt is for a payment that no longer awaits one; refunding it');
    const refund = await ctx.processor.refund({ authorization, amountMinor, currency, idempotencyKey: processorKey(attempt, 'refund') });
    if (refund.status === 'failed') throw new Error(`the processor refused to refund ${authorization}: ${refund.reason}`);
    await dropAttempt(ctx.db, attempt);
    return 'refunded';
  }
  ctx.metrics.recordPayment(recorded, amountMinor);
  return 'captured';
}

/** Marks a capture the processor keeps refusing failed; the payment keeps its hold and says why. */
async function failCapture(ctx: PaymentsContext, attempt: ProcessorAttempt, error: unknown): Promise<boolean> {
  const failed = await ctx.db.transaction(async (tx) => {
    if (!(await failAttempt(tx, attempt, error))) return false;
    const payment = await lockedPaymentOf(tx, attempt.targetId);
    if (payment?.status !== 'requires_capture') return true;
    // A failed attempt is an outcome, not a status (payment-status.ts): the payment still awaits
    // capture, which the merchant may ask for again, or cancel.
    const lastError = { type: 'card_error', code: 'capture_failed', message: 'The card processor refused the capture. Capture again or cancel the payment.' };
    const [row] = await queryRows<PaymentRow>(tx, sql`update payments set last_payment_error = ${JSON.stringify(lastError)}::jsonb, updated_at = now()
      where id = ${payment.id} returning ${paymentColumns}`);
    await enqueue(tx, PaymentFailed, paymentEventData(row!));
    return true;
  });
  return failed;
}

/** The payment an attempt is for, row-locked; undefined for a top-up or a payment that is gone. */
async function lockedPaymentOf(tx: Db, targetId: string): Promise<PaymentRow | undefined> {
  const [row] = await queryRows<PaymentRow>(tx, sql`select ${paymentColumns} from payments where id = ${targetId} for update`);
  return row;
}
