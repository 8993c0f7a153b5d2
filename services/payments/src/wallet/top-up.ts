// POST /wallet/top-ups: money from a card into the user's wallet. The card is charged (authorised
// and captured in one processor operation, recorded as an attempt first) before the top-up, its
// transfer from processor clearing to the wallet and its event are written in one transaction,
// which also forgets the attempt. A retry of a request that died resumes its attempt. A card that
// needs 3-D Secure is refused: a top-up has no confirm step.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@fastify/type-provider-typebox';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { WalletToppedUp } from '../events.ts';
import { paymentsErrors } from '../errors.ts';
import type { Hold, Outcome, StoreOutcome } from '../idempotency/idempotent-post.ts';
import { accounts } from '../ledger/ledger-accounts.ts';
import { formatAmount, publicAmount, publicAmountFields, publicCurrencySchema } from '../money/parse-amount.ts';
import { cardMethod, cardSnapshotSchema, insertPaymentMethod, methodSnapshot, type CardSnapshot, type RequestedMethod } from '../payment-methods/payment-method.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { attemptCard, attemptTarget, beginCardAttempt, heldByCard, type CardAttempt } from '../payments/attempt-payment.ts';
import { dropAttempt, finishAttempt } from '../processor/processor-attempt.ts';
import { giveUpAttempt } from '../processor/reverse-attempt.ts';

interface TopUpRow {
  id: string;
  user_id: string;
  amount_minor: string;
  currency: string;
  payment_method: CardSnapshot;
  created_at: string | Date;
}

/** A top-up as the API shows it, as publicTopUp() writes it. */
export const topUpSchema = Type.Object({
  id: Type.String({ description: 'wtu_…' }),
  object: Type.Literal('wallet_top_up'),
  user_id: Type.Integer({ minimum: 1, description: 'The user whose wallet was credited.' }),
  ...publicAmountFields,
  currency: publicCurrencySchema,
  status: Type.Literal('succeeded', { description: 'A top-up exists only once its card was charged: a refused card answers 402 and leaves none.' }),
  payment_method: cardSnapshotSchema,
  created: Type.Integer({ description: 'Unix seconds.' }),
}, { description: 'Money charged to a card and credited to the user\'s wallet.' });

export function publicTopUp(row: TopUpRow): Static<typeof topUpSchema> {
  const currency = row.currency.trim();
  return {
    id: row.id,
    object: 'wallet_top_up',
    user_id: Number(row.user_id),
    ...publicAmount(row.amount_minor, currency),
    currency: currency.toLowerCase(),
    status: 'succeeded',
    payment_method: row.payment_method,
    created: Math.floor(new Date(row.created_at).getTime() / 1000),
  };
}

export interface NewTopUp {
  readonly userId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly method: Exclude<RequestedMethod, { kind: 'wallet' }>;
  readonly createdBy: string;
}

export async function topUpWallet(ctx: PaymentsContext, input: NewTopUp, hold: Hold, store: StoreOutcome): Promise<Outcome> {
  const requested = { id: `wtu_${randomBytes(12).toString('base64url')}`, userId: input.userId, amountMinor: input.amountMinor, currency: input.currency, captureMethod: 'automatic' as const };
  // A new top-up id is nobody else's: only a lost Idempotency-Key (which throws) can stop the attempt.
  const attempt = (await beginCardAttempt(ctx, hold, requested, false, () => cardMethod(ctx.processor, input.method, input.userId, ctx.config.fingerprintKey)))!;
  const { id } = attemptTarget(requested, attempt);
  const card = attempt.method;
  let answer: CardAttempt | undefined;
  try {
    answer = await attemptCard(ctx, attempt);
    if (answer.outcome === 'failed' || answer.outcome === 'requires_action') {
      // Nothing is held at the processor: the refusal is the outcome.
      await dropAttempt(ctx.db, attempt);
      if (answer.outcome === 'requires_action') throw paymentsErrors.authenticationRequired();
      const { code, decline_code, message } = answer.error;
      throw paymentsErrors.cardDeclined({ code, declineCode: decline_code ?? code, message });
    }
    if (answer.outcome !== 'succeeded') throw new Error(`a top-up's charge came back ${answer.outcome}`);
    const authorization = answer.authorization;
    const row = await ctx.db.transaction(async (tx) => {
      await insertPaymentMethod(tx, card);
      const transferId = await ctx.ledger.transfer(tx, {
        debit: accounts.processorClearing(input.currency),
        credit: accounts.wallet(input.userId, input.currency),
        amountMinor: input.amountMinor,
        currency: input.currency,
        kind: 'top_up',
        reference: id,
      });
      const [row] = await queryRows<TopUpRow>(tx, sql`
        insert into wallet_top_ups (id, user_id, amount_minor, currency, payment_method_id, payment_method, processor_authorization, transfer_id, created_by)
        values (${id}, ${input.userId}, ${input.amountMinor.toString()}::bigint, ${input.currency}, ${card.id}, ${JSON.stringify(methodSnapshot(card))}::jsonb,
          ${authorization}, ${transferId}, ${input.createdBy})
        returning id, user_id, amount_minor, currency, payment_method, created_at`);
      await enqueue(tx, WalletToppedUp, { top_up_id: id, user_id: Number(input.userId), amount_minor: input.amountMinor.toString(), currency: input.currency, amount_display: formatAmount(input.amountMinor, input.currency) });
      await store(tx, { status: 200, body: JSON.stringify(publicTopUp(row!)) });
      await finishAttempt(tx, attempt);
      return row!;
    });
    return { status: 200, body: JSON.stringify(publicTopUp(row)) };
  } catch (error) {
    await giveUpAttempt(ctx, attempt, heldByCard(answer));
    throw error;
  }
}
