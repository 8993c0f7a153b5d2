// What the payments service needs from a card processor (Stripe, Adyen, a bank's acquiring API).
// The built-in `TestCardProcessor` is one implementation; services/payments/docs/processors.md
// describes how to write another. Every call that moves money carries an idempotency key, so a
// retried call never moves it twice at the processor.
import { AppError } from '@paymesh/platform/errors';
import type { CardDetails } from '../payment-methods/card-details.ts';

export interface CardDecline {
  readonly status: 'declined';
  /** Stripe's error `code`: card_declined, expired_card, incorrect_cvc, processing_error… */
  readonly code: string;
  /** Stripe's `decline_code`: generic_decline, insufficient_funds… */
  readonly declineCode: string;
  readonly message: string;
}

export type AuthorizationOutcome =
  | { readonly status: 'authorized'; readonly authorization: string }
  /** The cardholder must authenticate (3-D Secure); confirming again with `authenticated` completes it. */
  | { readonly status: 'requires_action'; readonly nextAction: { readonly type: 'three_d_secure'; readonly message: string } }
  /** The processor will tell later (asynchronous methods); the payment shows `processing` meanwhile. */
  | { readonly status: 'pending'; readonly authorization: string }
  | CardDecline;

export type RefundOutcome = { readonly status: 'succeeded'; readonly refund: string } | { readonly status: 'failed'; readonly reason: string };

/**
 * The processor could not be reached or answered nonsense: nothing is known to have happened.
 * The request answers 503 `processor_unavailable` and its Idempotency-Key is released, so the
 * client may retry; the detail (the cause) goes to the log only.
 */
export class ProcessorUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super(503, 'api_error', 'processor_unavailable', 'The card processor is unavailable; retry later.', { cause });
    this.name = 'ProcessorUnavailableError';
  }
}

export interface CardProcessor {
  readonly name: string;
  /** Hands the card to the processor's vault and returns its reusable token. The card number goes no further. */
  tokenize(card: CardDetails): Promise<string>;
  /** Reserves the amount on the card. `authenticated` is true once the cardholder completed 3-D Secure. */
  authorize(request: { readonly token: string; readonly amountMinor: bigint; readonly currency: string; readonly authenticated: boolean; readonly idempotencyKey: string }): Promise<AuthorizationOutcome>;
  /** Takes `amountMinor` (at most the authorized amount) and releases the rest. */
  capture(request: { readonly authorization: string; readonly amountMinor: bigint; readonly idempotencyKey: string }): Promise<void>;
  /** Releases an authorization that will not be captured. */
  void(request: { readonly authorization: string; readonly idempotencyKey: string }): Promise<void>;
  /** Returns captured money to the card. */
  refund(request: { readonly authorization: string; readonly amountMinor: bigint; readonly currency: string; readonly idempotencyKey: string }): Promise<RefundOutcome>;
}
