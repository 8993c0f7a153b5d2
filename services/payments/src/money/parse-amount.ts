// Exact decimal parsing into integer minor units: the text is split, never multiplied as a float.
// JSON numbers reach here as their source text (see json-with-exact-amounts.ts), so 100.10 is
// "100.10", not 100.09999999999999.
import { Type } from '@fastify/type-provider-typebox';
import { paymentsErrors } from '../errors.ts';
import { currencyExponents } from './currencies.ts';

export function parseAmount(raw: unknown, currency: string, maxMinor: bigint, param = 'amount'): bigint {
  if (typeof raw !== 'string') throw paymentsErrors.invalidAmount('Amount must be a decimal number such as 100.00.', param);
  const match = /^(\d{1,20})(?:\.(\d{1,20}))?$/.exec(raw);
  if (match === null) throw paymentsErrors.invalidAmount(raw.startsWith('-') ? 'Amount must be greater than zero.' : 'Amount must be a decimal number such as 100.00.', param);
  const exponent = currencyExponents[currency]!;
  const fraction = (match[2] ?? '').replace(/0+$/, '');
  if (fraction.length > exponent) throw paymentsErrors.invalidAmount(exponent === 0 ? `${currency} amounts have no decimals.` : `${currency} amounts have at most ${exponent} decimals.`, param);
  const minor = BigInt(match[1]!) * 10n ** BigInt(exponent) + BigInt(fraction.padEnd(exponent, '0') || '0');
  if (minor <= 0n) throw paymentsErrors.invalidAmount('Amount must be greater than zero.', param);
  if (minor > maxMinor) throw paymentsErrors.invalidAmount(`Amount must be at most ${formatAmount(maxMinor, currency)}.`, param);
  return minor;
}

// Building an Intl.NumberFormat costs ~20 µs; formatting with a built one ~0.3 µs (docs/benchmarks.md).
const formatters = new Map<string, Intl.NumberFormat>();

/** "$100.00", "¥100", "KWD 1.500": locale formatting from an exact decimal string. */
export function formatAmount(minor: bigint, currency: string): string {
  let formatter = formatters.get(currency);
  if (formatter === undefined) formatters.set(currency, (formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency })));
  return formatter.format(toDecimalString(minor, currency) as unknown as number);
}

/** The fields publicAmount() writes, as the API document describes them (spread into a resource's schema). */
export const publicAmountFields = {
  amount: Type.Integer({ description: 'The amount in minor units of the currency (cents; yen have none): 10050 is $100.50.' }),
  amount_decimal: Type.String({ description: 'The same amount in the major unit as an exact decimal string, with the currency\'s decimals: "100.50".' }),
  amount_display: Type.String({ description: 'The same amount formatted for a person (en-US): "$100.50".' }),
};

/** How the API shows a currency: its ISO 4217 code in lower case, as Stripe does. */
export const publicCurrencySchema = Type.String({ minLength: 3, maxLength: 3, description: 'ISO 4217 currency code, lower case: "usd".' });

/** How the API shows an amount: minor units (Stripe's `amount`), the exact decimal, and for people. */
export function publicAmount(minorText: string, currency: string) {
  const minor = BigInt(minorText);
  return { amount: Number(minor), amount_decimal: toDecimalString(minor, currency), amount_display: formatAmount(minor, currency) };
}

export function toDecimalString(minor: bigint, currency: string): string {
  const exponent = currencyExponents[currency]!;
  if (exponent === 0) return minor.toString();
  const digits = minor.toString().padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
