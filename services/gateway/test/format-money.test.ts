// The dashboard's money formatting (services/gateway/web/src/format-money.ts): integer minor units
// shown with the currency's own decimals and symbol in the reader's locale, every digit exact.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { currencyDigits, formatMoney } from '../web/src/format-money.ts';

describe('formatting money for people', () => {
  test('minor units become the currency\'s decimals: cents for USD and EUR, none for JPY, three for KWD', () => {
    assert.equal(currencyDigits('USD'), 2);
    assert.equal(currencyDigits('JPY'), 0);
    assert.equal(currencyDigits('KWD'), 3);
    assert.equal(formatMoney(123456, 'usd', 'en-US'), '$1,234.56');
    assert.equal(formatMoney(500, 'jpy', 'en-US'), '¥500');
    assert.equal(formatMoney(1234567, 'kwd', 'en-US'), 'KWD\u00a01,234.567');
  });

  test('the reader\'s locale decides separators and where the symbol goes', () => {
    assert.equal(formatMoney(123456, 'eur', 'de-DE'), '1.234,56\u00a0€');
    assert.equal(formatMoney(123456, 'eur', 'fr-FR'), '1\u202f234,56\u00a0€');
    assert.equal(formatMoney(123456, 'usd', 'en-GB'), 'US$1,234.56');
  });

  test('small, zero and negative amounts keep their leading zeros and sign', () => {
    assert.equal(formatMoney(5, 'usd', 'en-US'), '$0.05');
    assert.equal(formatMoney(0, 'usd', 'en-US'), '$0.00');
    assert.equal(formatMoney(-1050, 'usd', 'en-US'), '-$10.50');
  });

  test('amounts beyond a double\'s exact integers are exact (a bigint, never through floating point)', () => {
    assert.equal(formatMoney(9007199254740993n, 'usd', 'en-US'), '$90,071,992,547,409.93');
  });

  test('an unknown currency code is refused, not shown as another currency', () => {
    assert.throws(() => formatMoney(100, 'not-a-code', 'en-US'), RangeError);
  });
});
