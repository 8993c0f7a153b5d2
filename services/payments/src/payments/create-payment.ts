// POST /payments: a new payment, confirmed in the same call (the contract's request and the
// default) or only created. For a card, the processor is asked before the transaction; the
// payment row, its payment method, its ledger transfer, its events and the idempotent response
// are then written in one transaction, so none exists without the others.
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import type { StoreOutcome, Outcome } from '../idempotency/idempotent-post.ts';
import { cardMethod, insertPaymentMethod, methodSnapshot, type CardMethod, type RequestedMethod } from '../payment-methods/payment-method.ts';
import type { PaymentsContext } from '../payments-context.ts';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Ledger } from '../ledger/ledger.ts';
import { attemptCard, attemptEvent, attemptWallet, cardAttemptFields, type AttemptFields, type AttemptTarget } from './attempt-payment.ts';
import { undoAtProcessor } from './undo-at-processor.ts';
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

export async function createPayment(ctx: PaymentsContext, input: NewPayment, store: StoreOutcome, render: (row: PaymentRow) => Outcome): Promise<Outcome> {
  const target: AttemptTarget = { id: newPaymentId(), userId: input.userId, amountMinor: input.amountMinor, currency: input.currency, captureMethod: input.captureMethod };
  const card = input.method === undefined || input.method.kind === 'wallet' ? undefined : await cardMethod(ctx.processor, input.method, input.userId, ctx.config.fingerprintKey);
  const attempt = card !== undefined && input.confirm ? await attemptCard(ctx.processor, card, target, false) : undefined;
  let row: PaymentRow;
  let outcome: Outcome;
  try {
    ({ row, outcome } = await ctx.db.transaction(async (tx) => {
      if (card !== undefined) await insertPaymentMethod(tx, card);
      let fields: AttemptFields;
      let post: ((tx: Db, ledger: Ledger) => Promise<void>) | undefined;
      if (!input.confirm) fields = unconfirmed(input.method === undefined ? undefined : (card ?? 'wallet'));
      else if (card !== undefined) ({ fields, post } = cardAttemptFields(target, card, attempt!));
      else fields = await attemptWallet(tx, ctx.ledger, target);
      const row = await insertPayment(tx, { ...target, description: input.description, createdBy: input.createdBy }, fields);
      const data = paymentEventData(row);
      await enqueueEvent(tx, 'payment.created', data);
      if (input.confirm) await enqueueEvent(tx, attemptEvent(fields), data);
      const outcome = render(row);
      await store(tx, outcome);
      // Last: the shared ledger accounts stay locked only from here to the commit.
      await post?.(tx, ctx.ledger);
      return { row, outcome };
    }));
  } catch (error) {
    if (attempt !== undefined) await undoAtProcessor(ctx, attempt, target.amountMinor, target.currency);
    throw error;
  }
  ctx.runtime.relay.kick();
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
