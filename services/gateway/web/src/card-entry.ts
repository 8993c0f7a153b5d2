// Card entry checked in the browser before anything is sent: the brand from the number's prefix,
// the Luhn check digit, the expiry (not past) and the CVC's length, with the payments service's own
// rules (services/payments/src/processor/card-details.ts) and sentences, so a typo is caught at
// once; the service checks everything again.

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay' | 'unknown';

export const cardBrandNames: Readonly<Record<CardBrand, string>> = {
  visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', jcb: 'JCB', diners: 'Diners Club', unionpay: 'UnionPay', unknown: '',
};

/** The digits of a number as typed (spaces and dashes dropped). */
export function cardDigits(typed: string): string {
  return typed.replace(/[\s-]/g, '');
}

export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The brand a number's prefix names (the same table as the service's). */
export function cardBrand(digits: string): CardBrand {
  if (digits.startsWith('4')) return 'visa';
  if (/^(5[1-5]|222[1-9]|22[3-9]|2[3-6]|27[01]|2720)/.test(digits)) return 'mastercard';
  if (/^3[47]/.test(digits)) return 'amex';
  if (/^(6011|65|64[4-9])/.test(digits)) return 'discover';
  if (/^35(2[89]|[3-8])/.test(digits)) return 'jcb';
  if (/^3(0[0-5]|[68])/.test(digits)) return 'diners';
  if (/^62/.test(digits)) return 'unionpay';
  return 'unknown';
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
