// The reconciler settles the processor attempts nobody will record: their request died and no
// retry resumed them within PAYMENTS_ATTEMPT_GRACE_SECONDS, or giving them back failed. An
// authorisation is voided and a charge refunded (its client was never told it succeeded, so no
// payment may exist for it); a capture is completed (the merchant asked for it, the processor took
// the money, and the payment and its hold exist: the books follow); a void is made again. The
// processor is asked with each attempt's own keys, so nothing happens twice at the processor.
import { randomUUID } from 'node:crypto';
import type { PaymentsContext } from '../payments-context.ts';
import { recordCapture } from '../payments/capture-payment.ts';
import { lockPayment } from '../payments/payment-store.ts';
import { dropAttempt, finishAttempt, processorKey, takeStrandedAttempts, type AttemptParameters, type ProcessorAttempt } from './processor-attempt.ts';
import { reverseAttempt } from './reverse-attempt.ts';

/** How long the reconciler holds what it took: far longer than settling one attempt takes. */
const reconcilerHoldMs = 60_000;

export async function reconcileAttempts(ctx: PaymentsContext, graceSec: number): Promise<number> {
  const token = randomUUID();
  const attempts = await takeStrandedAttempts(ctx.db, token, graceSec, reconcilerHoldMs, 100);
  let settled = 0;
  for (const attempt of attempts) {
    try {
      let action: string;
      if (attempt.operation === 'capture') {
        action = await completeCapture(ctx, attempt);
      } else {
        action = await reverseAttempt(ctx.processor, attempt);
        await dropAttempt(ctx.db, attempt);
      }
      ctx.metrics.reconciledAttempts.inc({ operation: attempt.operation, action });
      ctx.runtime.logger.warn({ attempt: attempt.id, target: attempt.targetId, operation: attempt.operation, action }, 'processor attempt reconciled');
      settled++;
    } catch (error) {
      // Left held until its hold lapses; the next sweep after that tries again.
      ctx.runtime.logger.error({ err: error, attempt: attempt.id, target: attempt.targetId }, 'reconciling a processor attempt failed; it will be tried again');
    }
  }
  return settled;
}

/** Captures again with the attempt's key (the processor answers from its first capture) and records it. */
async function completeCapture(ctx: PaymentsContext, attempt: ProcessorAttempt<Extract<AttemptParameters, { operation: 'capture' }>>): Promise<'captured' | 'refunded'> {
  const { authorization, amountMinor, currency } = attempt;
  await ctx.processor.capture({ authorization, amountMinor, idempotencyKey: processorKey(attempt, 'capture') });
  const recorded = await ctx.db.transaction(async (tx) => {
    const payment = await lockPayment(tx, attempt.targetId, () => true);
    // While the capture was in doubt nothing else could act on the authorisation (one attempt per
    // payment); a payment that no longer awaits capture is a bug: the money goes back below.
    if (payment.status !== 'requires_capture') return undefined;
    const row = await recordCapture(ctx, tx, payment, amountMinor);
    await finishAttempt(tx, attempt);
    return row;
  });
  if (recorded === undefined) {
    ctx.runtime.logger.error({ attempt: attempt.id, payment: attempt.targetId }, 'a capture in doubt is for a payment that no longer awaits one; refunding it');
    const refund = await ctx.processor.refund({ authorization, amountMinor, currency, idempotencyKey: processorKey(attempt, 'refund') });
    if (refund.status === 'failed') throw new Error(`the processor refused to refund ${authorization}: ${refund.reason}`);
    await dropAttempt(ctx.db, attempt);
    return 'refunded';
  }
  ctx.runtime.relay.kick();
  ctx.metrics.recordPayment(recorded, amountMinor);
  return 'captured';
}
