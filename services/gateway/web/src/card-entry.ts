// Card entry checked in the browser before anything is sent: the brand from the number's prefix,
// the Luhn check digit (both the SDK's card-rules.ts, the copy the payments service checks with),
// the expiry (not past) and the CVC's length, with the service's sentences, so a typo is caught at
// once; the service checks everything again.
import { cardBrand, luhnValid, type CardBrand } from '@paymesh/sdk';

export { cardBrand };

export const cardBrandNames: Readonly<Record<CardBrand, string>> = {
  visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', jcb: 'JCB', diners: 'Diners Club', unionpay: 'UnionPay', unknown: '',
};

/** The digits of a number as typed (spaces and dashes dropped). */
export function cardDigits(typed: string): string {
  return typed.replace(/[\s-]/g, '');
}

/** The number grouped as printed on the card: 4-4-4-4, American Express 4-6-5. */
export function groupCardNumber(digits: string): string {
  const groups = cardBrand(digits) === 'amex' ? [4, 6, 5] : [4, 4, 4, 4, 3];
  const parts: string[] = [];
  let at = 0;
  for (const size of groups) {
    if (at >= digits.length) break;
    parts.push(digits.slice(at, at + size));
    at += size;
  }
  return parts.join(' ');
}

export interface CardEntry {
  readonly number: string;
  /** As typed: `MM/YY`, `MM / YY` or `MM/YYYY`. */
  readonly expiry: string;
  readonly cvc: string;
}

/** The card as POST /payments takes it (`payment_method`). */
export interface CardPaymentMethod {
  readonly number: string;
  readonly exp_month: number;
  readonly exp_year: number;
  readonly cvc: string;
}

export type CardField = 'number' | 'expiry' | 'cvc';

/** The card ready to send, or a sentence for each field at fault. */
export function checkCardEntry(entry: CardEntry, now: Date = new Date()): { card: CardPaymentMethod } | { errors: Partial<Record<CardField, string>> } {
  const errors: Partial<Record<CardField, string>> = {};
  const number = cardDigits(entry.number);
  if (number === '') errors.number = 'Enter your card number.';
  else if (!/^[0-9]{12,19}$/.test(number) || !luhnValid(number)) errors.number = 'Your card number is incorrect.';
  const expiry = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(entry.expiry);
  let expMonth = 0;
  let expYear = 0;
  if (entry.expiry.trim() === '') errors.expiry = 'Enter the expiry date as MM/YY.';
  else if (expiry === null) errors.expiry = 'Enter the expiry date as MM/YY.';
  else {
    expMonth = Number(expiry[1]);
    expYear = expiry[2]!.length === 2 ? 2000 + Number(expiry[2]) : Number(expiry[2]);
    const thisYear = now.getFullYear();
    if (expMonth < 1 || expMonth > 12) errors.expiry = "Your card's expiration month is invalid.";
    else if (expYear < thisYear || (expYear === thisYear && expMonth < now.getMonth() + 1)) errors.expiry = 'Your card has expired.';
    else if (expYear > thisYear + 50) errors.expiry = "Your card's expiration year is invalid.";
  }
  const cvcLength = cardBrand(number) === 'amex' ? 4 : 3;
  const cvc = entry.cvc.trim();
  if (cvc === '') errors.cvc = 'Enter the security code.';
  else if (!new RegExp(`^[0-9]{${cvcLength}}$`).test(cvc)) errors.cvc = `Your card's security code is ${cvcLength} digits.`;
  if (Object.keys(errors).length > 0) return { errors };
  return { card: { number, exp_month: expMonth, exp_year: expYear, cvc } };
}
