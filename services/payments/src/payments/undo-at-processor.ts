// When the transaction recording a processor's answer fails, the processor has still done what it
// said: release the authorization or return the captured money, so the card is not charged for a
// payment that does not exist. Best effort, logged either way; the ledger never saw the money.
import type { PaymentsContext } from '../payments-context.ts';
import type { CardAttempt } from './attempt-payment.ts';

export async function undoAtProcessor(ctx: PaymentsContext, attempt: CardAttempt, amountMinor: bigint, currency: string): Promise<void> {
  if (attempt.outcome === 'failed' || attempt.outcome === 'requires_action') return;
  const { authorization } = attempt;
  const reference = attempt.key;
  try {
    if (attempt.outcome === 'succeeded') {
      await ctx.processor.refund({ authorization, amountMinor, currency, idempotencyKey: `${reference}:undo` });
    } else {
      await ctx.processor.void({ authorization, idempotencyKey: `${reference}:undo` });
    }
    ctx.runtime.logger.warn({ reference, authorization }, 'recording failed; undone at the processor');
  } catch (error) {
    ctx.runtime.logger.error({ err: error, reference, authorization }, 'recording failed and undoing at the processor failed too: reconcile by hand');
  }
}
