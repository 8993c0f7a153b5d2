// One attempt to pay: the processor's side (outside any transaction: never hold ledger locks over a
// network call) and the ledger's side (inside the payment's transaction). A card authorised with
// automatic capture is captured at once and posted as one transfer; with manual capture it is a
// pending transfer until captured or canceled. A wallet needs no processor: its ledger transfer is
// the whole payment, and the account's no-overdraft flag refuses what the balance cannot cover.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '@paymesh/platform/db/open-database';
import { accounts } from '../ledger/ledger-accounts.ts';
import { LedgerError, type Ledger } from '../ledger/ledger.ts';
import type { CardMethod } from '../payment-methods/payment-method.ts';
import { methodSnapshot } from '../payment-methods/payment-method.ts';
import type { CardProcessor } from '../processor/card-processor.ts';
import type { PaymentStatus } from './payment-status.ts';

export interface PaymentError {
  readonly type: 'card_error' | 'invalid_request_error';
  readonly code: string;
  readonly decline_code?: string;
  readonly message: string;
}

/** What the processor said about a card. */
export type CardAttempt = { readonly key: string } & (
  | { readonly outcome: 'succeeded' | 'requires_capture' | 'processing'; readonly authorization: string }
  | { readonly outcome: 'requires_action'; readonly nextAction: Record<string, unknown> }
  | { readonly outcome: 'failed'; readonly error: PaymentError });

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
  readonly payment_method: Record<string, unknown> | null;
  readonly processor_authorization: string | null;
  readonly authorization_transfer_id: string | null;
  readonly amount_capturable: bigint;
  readonly amount_received: bigint;
  readonly last_payment_error: Record<string, unknown> | null;
  readonly next_action: Record<string, unknown> | null;
}

export async function attemptCard(processor: CardProcessor, card: CardMethod, target: AttemptTarget, authenticated: boolean): Promise<CardAttempt> {
  // One idempotency key per attempt: the processor dedupes retries of this attempt's calls, while
  // a later attempt (another confirm, a retry after a failure was undone) is a new authorisation.
  const key = `${target.id}:${randomBytes(8).toString('hex')}`;
  const result = await processor.authorize({ token: card.token, amountMinor: target.amountMinor, currency: target.currency, authenticated, idempotencyKey: key });
  switch (result.status) {
    case 'declined':
      return { key, outcome: 'failed', error: { type: 'card_error', code: result.code, decline_code: result.declineCode, message: result.message } };
    case 'requires_action':
      return { key, outcome: 'requires_action', nextAction: result.nextAction };
    case 'pending':
      return { key, outcome: 'processing', authorization: result.authorization };
    case 'authorized':
      if (target.captureMethod === 'manual') return { key, outcome: 'requires_capture', authorization: result.authorization };
      try {
        await processor.capture({ authorization: result.authorization, amountMinor: target.amountMinor, idempotencyKey: `${key}:capture` });
      } catch (error) {
        // Not captured: release the authorisation rather than leave the amount held on the card.
        await processor.void({ authorization: result.authorization, idempotencyKey: `${key}:void` }).catch(() => undefined);
        throw error;
      }
      return { key, outcome: 'succeeded', authorization: result.authorization };
  }
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
      const post = async (tx: Db, ledger: Ledger) => void (await ledger.transfer(tx, {
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
function failedFields(error: PaymentError, method: Record<string, unknown>): AttemptFields {
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
export function attemptEvent(fields: AttemptFields): string {
  if (fields.last_payment_error !== null) return 'payment.failed';
  return `payment.${fields.status}`;
}
