// Card details as a client sends them, checked before anything else happens: the number's length
// and Luhn check digit, the expiry, the CVC. The number and CVC are held only in memory, long
// enough to hand them to the processor; what is kept is `CardSummary`.
import { createHmac } from 'node:crypto';
import { Type } from '@fastify/type-provider-typebox';
import { paymentsErrors } from '../errors.ts';
import { literalUnion } from '@paymesh/platform/literal-union';
import { cardBrand, cardBrands, luhnValid, type CardBrand } from '@paymesh/sdk/card-rules';

// The number's rules (Luhn, the brand's prefixes) are the SDK's, the one copy clients check too.
export { cardBrands, luhnValid, type CardBrand };

export interface CardDetails {
  readonly number: string;
  readonly expMonth: number;
  readonly expYear: number;
  readonly cvc: string;
}

/** What the platform keeps and shows of a card. */
export interface CardSummary {
  readonly brand: CardBrand;
  readonly last4: string;
  readonly exp_month: number;
  readonly exp_year: number;
  /** HMAC of the number under PAYMENTS_FINGERPRINT_KEY: the same card gives the same value, and it reveals nothing. */
  readonly fingerprint: string;
}

/** CardSummary as the API document describes it (a payment method's `card`). */
export const cardSummarySchema = Type.Object({
  brand: literalUnion(cardBrands, { description: 'From the number\'s prefix.' }),
  last4: Type.String({ description: 'The last four digits of the number.' }),
  exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
  exp_year: Type.Integer({ description: 'Four digits.' }),
  fingerprint: Type.String({ description: 'The same for every use of the same card number (a keyed hash: it reveals nothing of the number).' }),
}, { description: 'What the platform keeps and shows of a card: never its number or CVC.' });

/** A card method ready to be charged: a saved one, or a new one to be stored with the payment. */
export interface CardMethod {
  readonly id: string;
  readonly token: string;
  readonly summary: CardSummary;
  /** Set when the method is new: insert it in the payment's transaction. */
  readonly insert?: { readonly userId: string; readonly processor: string; readonly saved: boolean };
}

/** Checks the details (402 card_error, as Stripe answers them) and returns them normalised. */
export function checkCardDetails(raw: { number: string; exp_month: number; exp_year: number; cvc: string }, now = new Date()): CardDetails {
  const number = raw.number.replace(/[ -]/g, '');
  if (!/^[0-9]{12,19}$/.test(number) || !luhnValid(number)) throw paymentsErrors.cardDetails('incorrect_number', 'Your card number is incorrect.', 'number');
  if (!Number.isInteger(raw.exp_month) || raw.exp_month < 1 || raw.exp_month > 12) throw paymentsErrors.cardDetails('invalid_expiry_month', "Your card's expiration month is invalid.", 'exp_month');
  const year = raw.exp_year < 100 ? 2000 + raw.exp_year : raw.exp_year;
  const thisYear = now.getUTCFullYear();
  if (!Number.isInteger(year) || year < thisYear || year > thisYear + 50) throw paymentsErrors.cardDetails('invalid_expiry_year', "Your card's expiration year is invalid.", 'exp_year');
  if (year === thisYear && raw.exp_month < now.getUTCMonth() + 1) throw paymentsErrors.cardDetails('invalid_expiry_month', "Your card's expiration month is in the past.", 'exp_month');
  const cvcLength = cardBrand(number) === 'amex' ? 4 : 3;
  if (!new RegExp(`^[0-9]{${cvcLength}}$`).test(raw.cvc)) throw paymentsErrors.cardDetails('invalid_cvc', "Your card's security code is invalid.", 'cvc');
  return { number, expMonth: raw.exp_month, expYear: year, cvc: raw.cvc };
}

export function summarizeCard(card: CardDetails, fingerprintKey: string): CardSummary {
  return {
    brand: cardBrand(card.number),
    last4: card.number.slice(-4),
    exp_month: card.expMonth,
    exp_year: card.expYear,
    fingerprint: createHmac('sha256', fingerprintKey).update(card.number).digest('base64url').slice(0, 16),
  };
}
