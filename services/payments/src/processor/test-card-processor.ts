// The built-in test-mode processor: it behaves like Stripe's test cards and moves no money. Its
// "vault" is the token itself, which records how the card will behave and nothing of its number.
import { randomBytes } from 'node:crypto';
import type { CardDetails } from '../payment-methods/card-details.ts';
import type { AuthorizationOutcome, CardDecline, CardProcessor, RefundOutcome } from './card-processor.ts';

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

export class TestCardProcessor implements CardProcessor {
  readonly name = 'test';

  async tokenize(card: CardDetails): Promise<string> {
    return `tok_test_${testCards[card.number] ?? 'succeeds'}_${randomBytes(8).toString('hex')}`;
  }

  async authorize(request: { token: string; authenticated: boolean }): Promise<AuthorizationOutcome> {
    const behaviour = tokenPattern.exec(request.token)?.[1] as Behaviour | undefined;
    if (behaviour === undefined) throw new Error('not a test processor token');
    if (behaviour === 'authentication_required' && !request.authenticated) {
      return { status: 'requires_action', nextAction: { type: 'three_d_secure', message: 'The cardholder must complete 3-D Secure authentication: confirm the payment again once they have.' } };
    }
    if (behaviour === 'succeeds' || behaviour === 'authentication_required') return { status: 'authorized', authorization: `auth_test_${randomBytes(12).toString('hex')}` };
    return { status: 'declined', ...declines[behaviour] };
  }

  async capture(): Promise<void> {}

  async void(): Promise<void> {}

  async refund(): Promise<RefundOutcome> {
    return { status: 'succeeded', refund: `rf_test_${randomBytes(12).toString('hex')}` };
  }
}
