// What the payments service needs from a card processor (Stripe, Adyen, a bank's acquiring API).
// The built-in `TestCardProcessor` is one implementation; services/payments/docs/processors.md
// describes how to write another.
//
// The contract a real processor must honour (Stripe and Adyen do): every call that moves or holds
// money carries an idempotency key, and for 24 hours the same key gets the same answer without a
// second effect (the same authorisation, no second charge, capture, void or refund). The service
// relies on it after a crash: the attempt is recorded before the processor is called, and whoever
// resumes it (the client's retry, the reconciler) calls again with the same key to learn what
// happened (processor-attempt.ts).
import { AppError } from '@paymesh/platform/errors';
import type { CardDetails } from './card-details.ts';

export interface CardDecline {
  readonly status: 'declined';
  /** Stripe's error `code`: card_declined, expired_card, incorrect_cvc, processing_error… */
  readonly code: string;
  /** Stripe's `decline_code`: generic_decline, insufficient_funds… */
  readonly declineCode: string;
  readonly message: string;
}

export type AuthorizationOutcome =
  /** `captured`: the amount was also taken, as asked with `capture` (Stripe's capture_method automatic). */
  | { readonly status: 'authorized'; readonly authorization: string; readonly captured: boolean }
  /** The cardholder must authenticate (3-D Secure); confirming again with `authenticated` completes it. */
  | { readonly status: 'requires_action'; readonly nextAction: { readonly type: 'three_d_secure'; readonly message: string } }
  /** The processor will tell later (asynchronous methods); the payment shows `processing` meanwhile. */
  | { readonly status: 'pending'; readonly authorization: string }
  | CardDecline;

export type RefundOutcome = { readonly status: 'succeeded'; readonly refund: string } | { readonly status: 'failed'; readonly reason: string };

/**
 * The processor is known not to have acted: it could not be reached, or refused the call before
 * doing anything. The request answers 503 `processor_unavailable` and its Idempotency-Key is
 * released, so the client may retry; the detail (the cause) goes to the log only. When the outcome
 * is unknown (a timeout after sending), an adapter throws anything else: the attempt is then kept
 * and settled by calling again with the same key.
 */
export class ProcessorUnavailableError extends AppError {
  constructor(cause?: unknown) {
    super(503, 'api_error', 'processor_unavailable', 'The card processor is unavailable; retry later.', { cause });
    this.name = 'ProcessorUnavailableError';
  }
}

export interface AuthorizeRequest {
  readonly token: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly authenticated: boolean;
  readonly capture: boolean;
  readonly idempotencyKey: string;
}

export interface CaptureRequest {
  readonly authorization: string;
  readonly amountMinor: bigint;
  readonly idempotencyKey: string;
}

export interface VoidRequest {
  readonly authorization: string;
  readonly idempotencyKey: string;
}

export interface RefundRequest {
  readonly authorization: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly idempotencyKey: string;
}

export interface CardProcessor {
  readonly name: string;
  /** Hands the card to the processor's vault and returns its reusable token. The card number goes no further. */
  tokenize(card: CardDetails): Promise<string>;
  /**
   * Reserves the amount on the card, and takes it in the same operation when `capture` is true, so
   * that one key tells the whole outcome. `authenticated` is true once the cardholder completed 3-D Secure.
   */
  authorize(request: AuthorizeRequest): Promise<AuthorizationOutcome>;
  /** Takes `amountMinor` (at most the authorized amount) and releases the rest. */
  capture(request: CaptureRequest): Promise<void>;
  /** Releases an authorization that will not be captured. */
  void(request: VoidRequest): Promise<void>;
  /** Returns captured money to the card. */
  refund(request: RefundRequest): Promise<RefundOutcome>;
}
