// Giving back at the processor what an attempt that will never be recorded holds: an authorisation
// is voided, a charge refunded. When its answer is not known (the request that had it died), the
// processor is asked again with the attempt's key: the same key gets the first answer, not a second
// charge, so asking is safe.
import type { PaymentsContext } from '../payments-context.ts';
import type { AuthorizationOutcome, CardProcessor } from './card-processor.ts';
import { abandonAttempt, authorizeRequest, dropAttempt, processorKey, type ProcessorAttempt } from './processor-attempt.ts';

/** What an authorisation attempt holds at the processor. */
export type Held = { readonly authorization: string; readonly captured: boolean } | 'nothing';

export function heldBy(outcome: AuthorizationOutcome): Held {
  switch (outcome.status) {
    case 'authorized':
      return { authorization: outcome.authorization, captured: outcome.captured };
    case 'pending':
      return { authorization: outcome.authorization, captured: false };
    case 'declined':
    case 'requires_action':
      return 'nothing';
  }
}

export type Reversal = 'voided' | 'refunded' | 'nothing';

/** Voids or refunds what an authorisation attempt holds, or performs a void attempt. Not for captures: those are completed. */
export async function reverseAttempt(processor: CardProcessor, attempt: ProcessorAttempt, known?: Held): Promise<Reversal> {
  switch (attempt.operation) {
    case 'authorize': {
      const held = known ?? heldBy(await processor.authorize(authorizeRequest(attempt)));
      if (held === 'nothing') return 'nothing';
      if (held.captured) {
        const refund = await processor.refund({ authorization: held.authorization, amountMinor: attempt.amountMinor, currency: attempt.currency, idempotencyKey: processorKey(attempt, 'refund') });
        if (refund.status === 'failed') throw new Error(`the processor refused to refund ${held.authorization}: ${refund.reason}`);
        return 'refunded';
      }
      await processor.void({ authorization: held.authorization, idempotencyKey: processorKey(attempt, 'void') });
      return 'voided';
    }
    case 'void':
      await processor.void({ authorization: attempt.authorization, idempotencyKey: processorKey(attempt, 'void') });
      return 'voided';
    case 'capture':
      throw new Error('a capture in doubt is completed, not reversed (reconcile-attempts.ts)');
  }
}

/**
 * For a request that cannot record its attempt (its transaction failed, the payment changed
 * meanwhile, the processor's answer never came): gives back what the attempt holds, if the attempt
 * is still this request's. What cannot be given back now, and a capture (which the reconciler
 * completes), is left abandoned for the reconciler. `known` is the processor's answer, if one came.
 */
export async function giveUpAttempt(ctx: PaymentsContext, attempt: ProcessorAttempt, known: Held | undefined): Promise<void> {
  const { db, processor, runtime } = ctx;
  try {
    if (!attempt.sent) return await dropAttempt(db, attempt);
    if (!(await abandonAttempt(db, attempt))) return; // adopted or settled by another: theirs to decide
    if (attempt.operation === 'capture') return;
    const reversal = await reverseAttempt(processor, attempt, known);
    await dropAttempt(db, attempt);
    runtime.logger.warn({ attempt: attempt.id, target: attempt.targetId, reversal }, 'the attempt could not be recorded; given back at the processor');
  } catch (error) {
    runtime.logger.error({ err: error, attempt: attempt.id, target: attempt.targetId }, 'the attempt could not be recorded nor given back yet; the reconciler will');
  }
}
