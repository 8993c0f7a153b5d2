// The built-in test-mode processor: it behaves like Stripe's test cards and moves no money. Its
// "vault" is the token itself, which records how the card will behave and nothing of its number.
// It honours the processor contract (card-processor.ts) as a real processor does, so that a retry
// reaching it with a fresh key, the bug a real processor would turn into a second charge, cannot
// hide behind it: the same key always gets the same authorisation or refund, whatever process
// asks, and a key reused with other parameters is refused, as Stripe refuses it.
import { createHash, randomBytes } from 'node:crypto';
import type { CardDetails } from './card-details.ts';
import type { AuthorizationOutcome, AuthorizeRequest, CaptureRequest, CardDecline, CardProcessor, RefundOutcome, RefundRequest, VoidRequest } from './card-processor.ts';

type Behaviour = 'succeeds' | 'generic_decline' | 'insufficient_funds' | 'expired_card' | 'incorrect_cvc' | 'processing_error' | 'authentication_required';

/** Stripe's test card numbers and what they do; any other valid number succeeds. */
export const testCards: Record<string, Behaviour> = {
  '4242424242424242': 'succeeds',
  '4000000000000002': 'generic_decline',
  '4000000000009995': 'insufficient_funds',
  '4000000000000069': 'expired_card',
  '4000000000000127': 'incorrect_cvc',
  '4000000000000119': 'processing_error',
  '4000002760003184': 'authentication_required',
};

/** Stripe's test PaymentMethod ids, usable wherever a saved method's id is. */
export const testPaymentMethods: Record<string, string> = {
  pm_card_visa: '4242424242424242',
  pm_card_visa_chargeDeclined: '4000000000000002',
  pm_card_visa_chargeDeclinedInsufficientFunds: '4000000000009995',
  pm_card_chargeDeclinedExpiredCard: '4000000000000069',
  pm_card_chargeDeclinedIncorrectCvc: '4000000000000127',
  pm_card_chargeDeclinedProcessingError: '4000000000000119',
  pm_card_authenticationRequired: '4000002760003184',
};

const declines: Record<Exclude<Behaviour, 'succeeds' | 'authentication_required'>, Omit<CardDecline, 'status'>> = {
  generic_decline: { code: 'card_declined', declineCode: 'generic_decline', message: 'Your card was declined.' },
  insufficient_funds: { code: 'card_declined', declineCode: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  expired_card: { code: 'expired_card', declineCode: 'expired_card', message: 'Your card has expired.' },
  incorrect_cvc: { code: 'incorrect_cvc', declineCode: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  processing_error: { code: 'processing_error', declineCode: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' },
};

const tokenPattern = /^tok_test_([a-z_]+)_[0-9a-f]{16}$/;

/** How many recent keys are kept to compare parameters (the answers themselves need no memory). */
const rememberedKeys = 20_000;

/** An id that only the idempotency key decides, the same in every process: same key, same operation. */
function idFor(prefix: string, idempotencyKey: string): string {
  return `${prefix}_${createHash('sha256').update(`paymesh test processor\n${idempotencyKey}`).digest('hex').slice(0, 24)}`;
}

export class TestCardProcessor implements CardProcessor {
  readonly name = 'test';
  /** The parameters each recent key came with; insertion order is age, so the oldest go first. */
  readonly #seen = new Map<string, string>();

  async tokenize(card: CardDetails): Promise<string> {
    return `tok_test_${testCards[card.number] ?? 'succeeds'}_${randomBytes(8).toString('hex')}`;
  }

  async authorize(request: AuthorizeRequest): Promise<AuthorizationOutcome> {
    this.#remember('authorize', request);
    const behaviour = tokenPattern.exec(request.token)?.[1] as Behaviour | undefined;
    if (behaviour === undefined) throw new Error('not a test processor token');
    if (behaviour === 'authentication_required' && !request.authenticated) {
      return { status: 'requires_action', nextAction: { type: 'three_d_secure', message: 'The cardholder must complete 3-D Secure authentication: confirm the payment again once they have.' } };
    }
    if (behaviour === 'succeeds' || behaviour === 'authentication_required') return { status: 'authorized', authorization: idFor('auth_test', request.idempotencyKey), captured: request.capture };
    return { status: 'declined', ...declines[behaviour] };
  }

  async capture(request: CaptureRequest): Promise<void> {
    this.#remember('capture', request);
  }

  async void(request: VoidRequest): Promise<void> {
    this.#remember('void', request);
  }

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    this.#remember('refund', request);
    return { status: 'succeeded', refund: idFor('rf_test', request.idempotencyKey) };
  }

  /** Refuses a recent key used again for another operation or with other parameters. */
  #remember(operation: string, request: { readonly idempotencyKey: string }): void {
    const parameters = JSON.stringify({ operation, ...request }, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
    const earlier = this.#seen.get(request.idempotencyKey);
    if (earlier !== undefined && earlier !== parameters) throw new Error(`the test processor refuses idempotency key ${request.idempotencyKey}: it was used with other parameters`);
    if (earlier !== undefined) return;
    this.#seen.set(request.idempotencyKey, parameters);
    if (this.#seen.size > rememberedKeys) this.#seen.delete(this.#seen.keys().next().value!);
  }
}
