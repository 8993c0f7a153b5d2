// Why a card was refused, as a sentence a payer can act on, from the card error's `code` and
// `decline_code` (Stripe's codes, services/payments/docs/processors.md); an unknown reason falls
// back to the API's own message (error-sentence.ts is not imported: it needs the session, this
// file is unit-tested in Node).
import type { CardError } from '@paymesh/sdk';

const byDeclineCode: Readonly<Record<string, string>> = {
  insufficient_funds: 'Your card was declined because it has insufficient funds. Try another card.',
  generic_decline: 'Your card was declined by your bank. Try another card, or contact your bank.',
  lost_card: 'Your card was declined because it was reported lost. Try another card.',
  stolen_card: 'Your card was declined because it was reported stolen. Try another card.',
  do_not_honor: 'Your card was declined by your bank. Try another card, or contact your bank.',
};

const byCode: Readonly<Record<string, string>> = {
  expired_card: 'Your card has expired. Check the expiry date or use another card.',
  incorrect_cvc: "Your card's security code is incorrect. Check the three or four digits on the card.",
  processing_error: 'An error occurred while processing your card. Try again in a little bit.',
  incorrect_number: 'Your card number is incorrect.',
  card_declined: 'Your card was declined. Try another card.',
};

export function declineSentence(error: CardError): string {
  if (error.declineCode !== undefined && error.declineCode !== error.code) {
    const sentence = byDeclineCode[error.declineCode];
    if (sentence !== undefined) return sentence;
  }
  const message = error.message.trim();
  return byCode[error.code] ?? (/[.!?]$/.test(message) ? message : `${message}.`);
}
