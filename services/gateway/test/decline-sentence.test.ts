// The dashboard's decline sentences (services/gateway/web/src/decline-sentence.ts): a card error's
// code and decline code become a sentence a payer can act on.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CardError } from '@paymesh/sdk';
import { declineSentence } from '../web/src/decline-sentence.ts';

const cardError = (code: string, declineCode: string | undefined, message = 'Your card was declined.') => new CardError({ status: 402, type: 'card_error', code, declineCode, message });

describe('why a card was declined, as a sentence', () => {
  test('the decline code says why when the issuer said', () => {
    assert.equal(declineSentence(cardError('card_declined', 'insufficient_funds')), 'Your card was declined because it has insufficient funds. Try another card.');
    assert.equal(declineSentence(cardError('card_declined', 'generic_decline')), 'Your card was declined by your bank. Try another card, or contact your bank.');
  });

  test('otherwise the code does, and an unknown one falls back to the API\'s message', () => {
    assert.equal(declineSentence(cardError('expired_card', 'expired_card')), 'Your card has expired. Check the expiry date or use another card.');
    assert.equal(declineSentence(cardError('incorrect_cvc', 'incorrect_cvc')), "Your card's security code is incorrect. Check the three or four digits on the card.");
    assert.equal(declineSentence(cardError('card_declined', 'something_new')), 'Your card was declined. Try another card.');
    assert.equal(declineSentence(cardError('brand_new_code', undefined, 'The network said no')), 'The network said no.');
  });
});
