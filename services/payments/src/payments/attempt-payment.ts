// One attempt to pay: the processor's side (outside any transaction: never hold locks over a network
// call) and the ledger's side (inside the payment's transaction). A card attempt is recorded before
// the processor is called (processor-attempt.ts), so that a crash before its outcome is committed
// leaves it for the client's retry or the reconciler. A card authorised with automatic capture is
// captured in the same processor operation and posted as one transfer; with manual capture it is a
// pending transfer until captured or canceled. A wallet needs no processor: its ledger transfer is
// the whole payment, and the account's no-overdraft flag refuses what the balance cannot cover.
import { randomUUID } from 'node:crypto';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Hold } from '../idempotency/idempotent-post.ts';
import { accounts } from '../ledger/ledger-accounts.ts';
import { LedgerError, type Ledger } from '../ledger/ledger.ts';
import type { CardMethod } from '../processor/card-details.ts';
import { methodSnapshot, type MethodSnapshot } from '../payment-methods/payment-method.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { adoptAttempt, authorizeRequest, callProcessor, startAttempt, type AttemptParameters, type ProcessorAttempt } from '../processor/processor-attempt.ts';
import type { Held } from '../processor/reverse-attempt.ts';
import type { PaymentStatus } from './payment-status.ts';
import type { LastPaymentError, NextAction } from './payment.ts';
import { PaymentFailed, PaymentProcessing, PaymentRequiresAction, PaymentRequiresCapture, PaymentSucceeded } from '../events.ts';

export interface PaymentError {
  readonly type: 'card_error' | 'invalid_request_error';
  readonly code: string;
  readonly decline_code?: string;
  readonly message: string;
}

/** What the processor said about a card. */
export type CardAttempt =
  | { readonly outcome: 'succeeded' | 'requires_capture' | 'processing'; readonly authorization: string }
  | { readonly outcome: 'requires_action'; readonly nextAction: NextAction }
  | { readonly outcome: 'failed'; readonly error: PaymentError };

export type AuthorizeAttempt = ProcessorAttempt<Extract<AttemptParameters, { operation: 'authorize' }>>;

export interface AttemptTarget {
  readonly id: string;
  readonly userId: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly captureMethod: 'automatic' | 'manual';
}

/** The payment's columns an attempt sets. */
export interface AttemptFields {
  readonly status: PaymentStatus;
  readonly payment_method_type: 'card' | 'wallet' | null;
  readonly payment_method_id: string | null;
  readonly payment_method: MethodSnapshot | null;
  readonly processor_authorization: string | null;
  readonly authorization_transfer_id: string | null;
  readonly amount_capturable: bigint;
  readonly amount_received: bigint;
  readonly last_payment_error: LastPaymentError | null;
  readonly next_action: NextAction | null;
}

/**
 * The attempt to authorise `target` with a card: the one that a request which died began under this
 * request's Idempotency-Key, resumed with its payment id, card and processor key (so the processor
 * answers with the charge it already made), or a new one recorded before the processor hears of it.
 * Undefined when a new one may not begin (see `startAttempt`; `status` is the payment's expected one).
 */
export async function beginCardAttempt(ctx: PaymentsContext, hold: Hold, target: AttemptTarget, authenticated: boolean, card: () => Promise<CardMethod>, status?: PaymentStatus): Promise<AuthorizeAttempt | undefined> {
  if (hold.takenOver) {
    const adopted = await adoptAttempt(ctx.db, hold.lease, 'authorize');
    if (adopted !== undefined) {
      ctx.metrics.resumedAttempts.inc({ operation: 'authorize' });
      return adopted;
    }
  }
  const parameters = { operation: 'authorize' as const, targetId: target.id, method: await card(), amountMinor: target.amountMinor, currency: target.currency, capture: target.captureMethod === 'automatic', authenticated };
  return startAttempt(ctx.db, hold.lease, parameters, status);
}

/** The attempt's target as the attempt records it: an adopted attempt brings its own payment or top-up id. */
export function attemptTarget(target: AttemptTarget, attempt: AuthorizeAttempt): AttemptTarget {
  return { ...target, id: attempt.targetId, amountMinor: attempt.amountMinor, currency: attempt.currency, captureMethod: attempt.capture ? 'automatic' : 'manual' };
}

/** Asks the processor; a decline is counted here, the one place every card attempt's answer passes. */
export async function attemptCard(ctx: Pick<PaymentsContext, 'processor' | 'metrics'>, attempt: AuthorizeAttempt): Promise<CardAttempt> {
  const result = await callProcessor(attempt, () => ctx.processor.authorize(authorizeRequest(attempt)));
  switch (result.status) {
    case 'declined':
      ctx.metrics.recordDecline(result.declineCode);
      return { outcome: 'failed', error: { type: 'card_error', code: result.code, decline_code: result.declineCode, message: result.message } };
    case 'requires_action':
      return { outcome: 'requires_action', nextAction: result.nextAction };
    case 'pending':
      return { outcome: 'processing', authorization: result.authorization };
    case 'authorized':
      if (result.captured !== attempt.capture) throw new Error(`the processor answered captured=${result.captured} to capture=${attempt.capture}`);
      return { outcome: attempt.capture ? 'succeeded' : 'requires_capture', authorization: result.authorization };
  }
}

/** What a card attempt holds at the processor, for giving it back. */
export function heldByCard(attempt: CardAttempt | undefined): Held | undefined {
  if (attempt === undefined) return undefined;
  if (attempt.outcome === 'failed' || attempt.outcome === 'requires_action') return 'nothing';
  return { authorization: attempt.authorization, captured: attempt.outcome === 'succeeded' };
}

/**
 * A card attempt as the payment's new fields, and the ledger transfer it needs, if any. The
 * caller posts the transfer last in its transaction: the processor-clearing and revenue accounts
 * are shared by every card payment, and their row locks are then held only until the commit
 * (docs/benchmarks.md: 22 % more payments per second for the same SQL).
 */
export function cardAttemptFields(target: AttemptTarget, card: CardMethod, attempt: CardAttempt): { fields: AttemptFields; post: ((tx: Db, ledger: Ledger) => Promise<void>) | undefined } {
  const method = { payment_method_type: 'card' as const, payment_method_id: card.id, payment_method: methodSnapshot(card) };
  const none = { processor_authorization: null, authorization_transfer_id: null, amount_capturable: 0n, amount_received: 0n, last_payment_error: null, next_action: null };
  switch (attempt.outcome) {
    case 'failed':
      return { fields: failedFields(attempt.error, methodSnapshot(card)), post: undefined };
    case 'requires_action':
      return { fields: { ...none, ...method, status: 'requires_action', next_action: attempt.nextAction }, post: undefined };
    case 'processing':
      return { fields: { ...none, ...method, status: 'processing', processor_authorization: attempt.authorization }, post: undefined };
    case 'succeeded':
    case 'requires_capture': {
      const manual = attempt.outcome === 'requires_capture';
      const transferId = randomUUID();
      // Held to the end of the payments' commit group: its transfers in one statement (held-writes.ts).
      const post = async (tx: Db, ledger: Ledger) => void (await ledger.transferHeld(tx, {
        id: transferId,
        debit: accounts.processorClearing(target.currency),
        credit: accounts.platformRevenue(target.currency),
        amountMinor: target.amountMinor,
        currency: target.currency,
        kind: 'payment',
        pending: manual,
        paymentId: target.id,
      }));
      const fields: AttemptFields = {
        ...none,
        ...method,
        status: attempt.outcome,
        processor_authorization: attempt.authorization,
        authorization_transfer_id: manual ? transferId : null,
        amount_capturable: manual ? target.amountMinor : 0n,
        amount_received: manual ? 0n : target.amountMinor,
      };
      return { fields, post };
    }
  }
}

/** Pays from the user's wallet, inside the payment's transaction. */
export async function attemptWallet(tx: Db, ledger: Ledger, target: AttemptTarget): Promise<AttemptFields> {
  const manual = target.captureMethod === 'manual';
  let transferId: string;
  try {
    transferId = await ledger.transfer(tx, {
      debit: accounts.wallet(target.userId, target.currency),
      credit: accounts.platformRevenue(target.currency),
      amountMinor: target.amountMinor,
      currency: target.currency,
      kind: 'payment',
      pending: manual,
      paymentId: target.id,
    });
  } catch (error) {
    if (error instanceof LedgerError && error.code === 'exceeds_credits') {
      return failedFields({ type: 'invalid_request_error', code: 'balance_insufficient', message: 'The wallet balance is too low for this payment.' }, { type: 'wallet' });
    }
    throw error;
  }
  return {
    status: manual ? 'requires_capture' : 'succeeded',
    payment_method_type: 'wallet',
    payment_method_id: null,
    payment_method: { type: 'wallet' },
    processor_authorization: null,
    authorization_transfer_id: manual ? transferId : null,
    amount_capturable: manual ? target.amountMinor : 0n,
    amount_received: manual ? 0n : target.amountMinor,
    last_payment_error: null,
    next_action: null,
  };
}

/** Stripe's failed attempt: back to requires_payment_method, the error kept with the method it concerned. */
function failedFields(error: PaymentError, method: MethodSnapshot): AttemptFields {
  return {
    status: 'requires_payment_method',
    payment_method_type: null,
    payment_method_id: null,
    payment_method: null,
    processor_authorization: null,
    authorization_transfer_id: null,
    amount_capturable: 0n,
    amount_received: 0n,
    last_payment_error: { ...error, payment_method: method },
    next_action: null,
  };
}

/** The event an attempt's outcome announces (besides payment.created for a new payment). */
export function attemptEvent(fields: AttemptFields): typeof PaymentFailed | typeof PaymentSucceeded | typeof PaymentRequiresCapture | typeof PaymentRequiresAction | typeof PaymentProcessing {
  if (fields.last_payment_error !== null) return PaymentFailed;
  switch (fields.status) {
    case 'succeeded': return PaymentSucceeded;
    case 'requires_capture': return PaymentRequiresCapture;
    case 'requires_action': return PaymentRequiresAction;
    case 'processing': return PaymentProcessing;
    // The attempt functions above end in one of those statuses or with an error.
    default: throw new Error(`an attempt cannot end in status ${fields.status}`);
  }
}
