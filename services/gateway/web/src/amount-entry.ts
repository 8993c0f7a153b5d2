// The amount a person types, in a currency's major unit, checked against that currency's decimals
// before it is sent: the currencies and minor units the payments service accepts (the SDK's
// currencies.ts, which the service reads amounts with), and its rules (money/parse-amount.ts). The
// amount goes to the API as the decimal string typed, never through floating point.
import { currencyExponents } from '@paymesh/sdk';

/** The currencies Paymesh takes, with their decimals. */
export const paymentCurrencies = currencyExponents;

/** The amount as a decimal string for the API (`"25.50"`), or a sentence saying what is wrong. */
export function checkAmount(typed: string, currency: string): { decimal: string } | { error: string } {
  const code = currency.toUpperCase();
  const digits = paymentCurrencies[code];
  if (digits === undefined) return { error: `Paymesh does not take payments in ${code}.` };
  const text = typed.trim().replace(/[\s,_]/g, '');
  if (text === '') return { error: 'Enter an amount.' };
  const match = /^(\d{1,15})(?:\.(\d*))?$/.exec(text);
  if (match === null) return { error: text.startsWith('-') ? 'The amount must be greater than zero.' : `Enter the amount as a number, such as ${example(digits)}.` };
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) return { error: digits === 0 ? `${code} amounts have no decimals.` : `${code} amounts have at most ${digits} decimals.` };
  if (/^0*$/.test(match[1]!) && fraction === '') return { error: 'The amount must be greater than zero.' };
  return { decimal: digits === 0 ? match[1]! : `${match[1]}.${fraction.padEnd(digits, '0')}` };
}

/** The input's hint: "25.00" for USD, "2500" for JPY, "25.000" for KWD. */
export function amountExample(currency: string): string {
  return example(paymentCurrencies[currency.toUpperCase()] ?? 2);
}

function example(digits: number): string {
  return digits === 0 ? '2500' : `25.${'0'.repeat(digits)}`;
}
