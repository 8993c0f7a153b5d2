// POST /payments: a new payment, confirmed in the same call (the contract's request and the
// default) or only created. For a card, the attempt is recorded and the processor asked before the
// transaction; the payment row, its payment method, its ledger transfer, its events and the
// idempotent response are then written in one transaction that also forgets the attempt, so none
// exists without the others: committed in a group with the payments arriving meanwhile (ADR 30;
// no savepoints: a failing unit rolls the group back, then each unit is applied alone). A
// retry of a request that died resumes its attempt (and payment id).
import { enqueue } from '@paymesh/platform/events/enqueue';
import { PaymentCreated } from '../events.ts';
import type { Hold, StoreOutcome, Outcome } from '../idempotency/idempotent-post.ts';
import { cardMethod, methodSnapshot, type RequestedMethod } from '../payment-methods/payment-method.ts';
import type { CardMethod } from '../processor/card-details.ts';
import type { PaymentsContext } from '../payments-context.ts';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Ledger } from '../ledger/ledger.ts';
import { finishAttempt } from '../processor/processor-attempt.ts';
import { giveUpAttempt } from '../processor/reverse-attempt.ts';
import { attemptCard, attemptEvent, attemptTarget, attemptWallet, beginCardAttempt, cardAttemptFields, heldByCard, type AttemptFields, type AttemptTarget, type AuthorizeAttempt, type CardAttempt } from './attempt-payment.ts';
import { paymentEventData, type PaymentRow } from './payment.ts';
import { insertPayment, newPaymentId } from './payment-store.ts';

export interface NewPayment {
  readonly userId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly description: string | undefined;
  readonly captureMethod: 'automatic' | 'manual';
  readonly confirm: boolean;
  readonly method: RequestedMethod | undefined;
  readonly createdBy: string;
}

export async function createPayment(ctx: PaymentsContext, input: NewPayment, hold: Hold, store: StoreOutcome, render: (row: PaymentRow) => Outcome): Promise<Outcome> {
  let target: AttemptTarget = { id: newPaymentId(), userId: input.userId, amountMinor: input.amountMinor, currency: input.currency, captureMethod: input.captureMethod };
  const given = input.method === undefined || input.method.kind === 'wallet' ? undefined : input.method;
  let card: CardMethod | undefined;
  let attempt: AuthorizeAttempt | undefined;
  if (given !== undefined && input.confirm) {
    // A new payment id is nobody else's: only a lost Idempotency-Key (which throws) can stop the attempt.
    attempt = (await beginCardAttempt(ctx, hold, target, false, () => cardMethod(ctx.processor, given, input.userId, ctx.config.fingerprintKey)))!;
    target = attemptTarget(target, attempt);
    card = attempt.method;
  } else if (given !== undefined) {
    card = await cardMethod(ctx.processor, given, input.userId, ctx.config.fingerprintKey);
  }
  let answer: CardAttempt | undefined;
  let row: PaymentRow;
  let outcome: Outcome;
  try {
    if (attempt !== undefined) answer = await attemptCard(ctx, attempt);
    ({ row, outcome } = await ctx.paymentCommits.run(async (tx) => {
      let fields: AttemptFields;
      let post: ((tx: Db, ledger: Ledger) => Promise<void>) | undefined;
      if (!input.confirm) fields = unconfirmed(input.method === undefined ? undefined : (card ?? 'wallet'));
      else if (card !== undefined) ({ fields, post } = cardAttemptFields(target, card, answer!));
      else fields = await attemptWallet(tx, ctx.ledger, target);
      const row = await insertPayment(tx, { ...target, description: input.description, createdBy: input.createdBy, createdAt: new Date(ctx.runtime.clock.now()) }, fields, card);
      const data = paymentEventData(row);
      await enqueue(tx, PaymentCreated, data);
      if (input.confirm) await enqueue(tx, attemptEvent(fields), data);
      const outcome = render(row);
      await store(tx, outcome);
      if (attempt !== undefined) await finishAttempt(tx, attempt);
      // Last: the shared ledger accounts stay locked only from here to the commit (the group's).
      await post?.(tx, ctx.ledger);
      return { row, outcome };
    }));
  } catch (error) {
    if (attempt !== undefined) await giveUpAttempt(ctx, attempt, heldByCard(answer));
    throw error;
  }
  ctx.metrics.recordPayment(row, BigInt(row.amount_received));
  return outcome;
}

function unconfirmed(method: CardMethod | 'wallet' | undefined): AttemptFields {
  return {
    status: method === undefined ? 'requires_payment_method' : 'requires_confirmation',
    payment_method_type: method === undefined ? null : method === 'wallet' ? 'wallet' : 'card',
    payment_method_id: method === undefined || method === 'wallet' ? null : method.id,
    payment_method: method === undefined ? null : methodSnapshot(method),
    processor_authorization: null,
    authorization_transfer_id: null,
    amount_capturable: 0n,
    amount_received: 0n,
    last_payment_error: null,
    next_action: null,
  };
}
