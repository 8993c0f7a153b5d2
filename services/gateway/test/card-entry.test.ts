// The dashboard's card checks (services/gateway/web/src/card-entry.ts): the brand from the prefix
// and the Luhn digit (the SDK's card-rules.ts, the payments service's too), the expiry and the CVC,
// caught in the browser before anything is sent.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cardBrand, luhnValid } from '@paymesh/sdk';
import { checkCardEntry, groupCardNumber } from '../web/src/card-entry.ts';

const now = new Date(2026, 11, 6);

describe('checking a card in the browser', () => {
  test('the Luhn digit: the test cards pass, one changed digit fails', () => {
    for (const number of ['4242424242424242', '4000002760003184', '4000000000009995', '378282246310005', '5555555555554444']) assert.ok(luhnValid(number), number);
    assert.equal(luhnValid('4242424242424241'), false);
    assert.equal(luhnValid('4242a24242424242'), false);
  });

  test('the brand comes from the number\'s prefix', () => {
    assert.equal(cardBrand('4242'), 'visa');
    assert.equal(cardBrand('5555555555554444'), 'mastercard');
    assert.equal(cardBrand('2223003122003222'), 'mastercard');
    assert.equal(cardBrand('378282246310005'), 'amex');
    assert.equal(cardBrand('6011111111111117'), 'discover');
    assert.equal(cardBrand('3566002020360505'), 'jcb');
    assert.equal(cardBrand('36227206271667'), 'diners');
    assert.equal(cardBrand('6200000000000005'), 'unionpay');
    assert.equal(cardBrand('9999'), 'unknown');
  });

  test('numbers are grouped as printed: 4-4-4-4, American Express 4-6-5', () => {
    assert.equal(groupCardNumber('4242424242424242'), '4242 4242 4242 4242');
    assert.equal(groupCardNumber('378282246310005'), '3782 822463 10005');
    assert.equal(groupCardNumber('42424'), '4242 4');
  });

  test('a valid card is returned as POST /payments takes it, spaces gone and the year in four digits', () => {
    assert.deepEqual(checkCardEntry({ number: '4242 4242 4242 4242', expiry: '12 / 29', cvc: '123' }, now), { card: { number: '4242424242424242', exp_month: 12, exp_year: 2029, cvc: '123' } });
    assert.deepEqual(checkCardEntry({ number: '3782-822463-10005', expiry: '01/2027', cvc: '1234' }, now), { card: { number: '378282246310005', exp_month: 1, exp_year: 2027, cvc: '1234' } });
    assert.ok('card' in checkCardEntry({ number: '4242424242424242', expiry: '12/26', cvc: '123' }, now), 'this month is not past');
  });

  test('each wrong field gets its own sentence: a bad Luhn digit, a past or malformed expiry, a CVC of the wrong length for the brand', () => {
    assert.deepEqual(checkCardEntry({ number: '4242 4242 4242 4241', expiry: '11/26', cvc: '12' }, now), {
      errors: { number: 'Your card number is incorrect.', expiry: 'Your card has expired.', cvc: "Your card's security code is 3 digits." },
    });
    assert.deepEqual(checkCardEntry({ number: '', expiry: '', cvc: '' }, now), { errors: { number: 'Enter your card number.', expiry: 'Enter the expiry date as MM/YY.', cvc: 'Enter the security code.' } });
    assert.deepEqual(checkCardEntry({ number: '378282246310005', expiry: '13/27', cvc: '123' }, now), { errors: { expiry: "Your card's expiration month is invalid.", cvc: "Your card's security code is 4 digits." } });
    assert.deepEqual(checkCardEntry({ number: '4242', expiry: 'soon', cvc: '123' }, now), { errors: { number: 'Your card number is incorrect.', expiry: 'Enter the expiry date as MM/YY.' } });
  });
});
