// The dashboard's amount check (services/gateway/web/src/amount-entry.ts): an amount typed in a
// currency's major unit, held to that currency's decimals as the payments service holds it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { amountExample, checkAmount, paymentCurrencies } from '../web/src/amount-entry.ts';

describe('checking an amount in the browser', () => {
  test('the currencies and their decimals are the payments service\'s (services/payments/src/money/currencies.ts)', () => {
    assert.equal(Object.keys(paymentCurrencies).length, 27);
    assert.deepEqual([paymentCurrencies.USD, paymentCurrencies.EUR, paymentCurrencies.JPY, paymentCurrencies.KRW, paymentCurrencies.KWD, paymentCurrencies.TND], [2, 2, 0, 0, 3, 3]);
  });

  test('an amount becomes the exact decimal string the API takes, with the currency\'s decimals', () => {
    assert.deepEqual(checkAmount('25', 'usd'), { decimal: '25.00' });
    assert.deepEqual(checkAmount(' 1,234.5 ', 'USD'), { decimal: '1234.50' });
    assert.deepEqual(checkAmount('2500', 'JPY'), { decimal: '2500' });
    assert.deepEqual(checkAmount('2500.00', 'JPY'), { decimal: '2500' });
    assert.deepEqual(checkAmount('1.5', 'KWD'), { decimal: '1.500' });
    assert.deepEqual(checkAmount('0.001', 'kwd'), { decimal: '0.001' });
  });

  test('more decimals than the currency has, zero, negative, words and unknown currencies are refused with a sentence', () => {
    assert.deepEqual(checkAmount('10.005', 'USD'), { error: 'USD amounts have at most 2 decimals.' });
    assert.deepEqual(checkAmount('10.5', 'JPY'), { error: 'JPY amounts have no decimals.' });
    assert.deepEqual(checkAmount('0.00', 'USD'), { error: 'The amount must be greater than zero.' });
    assert.deepEqual(checkAmount('-5', 'USD'), { error: 'The amount must be greater than zero.' });
    assert.deepEqual(checkAmount('ten', 'USD'), { error: 'Enter the amount as a number, such as 25.00.' });
    assert.deepEqual(checkAmount('', 'USD'), { error: 'Enter an amount.' });
    assert.deepEqual(checkAmount('5', 'XYZ'), { error: 'Paymesh does not take payments in XYZ.' });
  });

  test('the hint shows the currency\'s decimals', () => {
    assert.equal(amountExample('usd'), '25.00');
    assert.equal(amountExample('JPY'), '2500');
    assert.equal(amountExample('KWD'), '25.000');
  });
});
