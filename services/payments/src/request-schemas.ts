// Request pieces several routes share: money, a payment method, a user id.
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId, mayActFor, type Caller } from '@paymesh/platform/auth/caller';
import { platformErrors } from '@paymesh/platform/errors';
import type { ConfigOf } from '@paymesh/platform/config';
import type { paymentsConfigSpec } from './config.ts';
import { paymentsErrors } from './errors.ts';
import { isSupportedCurrency } from './money/currencies.ts';
import { parseAmount } from './money/parse-amount.ts';
import { numericIdInteger, numericIdSchema } from '@paymesh/platform/ids';

/**
 * A money amount in the currency's major unit, sent as a JSON number (100.5) or a decimal string
 * ("100.50"). The exact-amount parser (money/json-with-exact-amounts.ts) has already turned a
 * number into its source text, so the handler always gets a string; the schema names both because
 * the API document is generated from it and clients send both. The string comes first so that a
 * wrong value is told what a string must be, as before.
 */
export const amountSchema = Type.Unsafe<string>({
  anyOf: [{ type: 'string', maxLength: 40 }, { type: 'number' }],
  description: 'In the currency\'s major unit (100.5 or "100.50"), at most its decimals; never rounded through floating point.',
});
export const userIdSchema = Type.Union([numericIdInteger, numericIdSchema]);
export const currencySchema = Type.String({ minLength: 3, maxLength: 3 });
export const cardSchema = Type.Object({
  number: Type.String({ minLength: 1, maxLength: 30 }),
  exp_month: Type.Integer(),
  exp_year: Type.Integer(),
  cvc: Type.String({ minLength: 1, maxLength: 4 }),
}, { additionalProperties: false });
/** "wallet", a saved method's id (or one of the test processor's pm_card_… ids), or card details. */
export const paymentMethodSchema = Type.Union([Type.String({ minLength: 1, maxLength: 64 }), cardSchema]);

export function requestCurrency(config: ConfigOf<typeof paymentsConfigSpec>, raw: string | undefined): string {
  const currency = (raw ?? config.defaultCurrency).toUpperCase();
  if (!isSupportedCurrency(currency)) throw paymentsErrors.invalidCurrency(currency);
  return currency;
}

export function requestAmount(config: ConfigOf<typeof paymentsConfigSpec>, raw: string, currency: string, param = 'amount'): bigint {
  return parseAmount(raw, currency, BigInt(config.maxAmountMinor), param);
}

/** The user a request acts for: itself by default; someone else only for an admin or a service. */
export function actingUser(caller: Caller, raw: number | string | undefined): string {
  if (raw === undefined) {
    if (caller.kind !== 'user') throw platformErrors.missingParameter('user_id');
    return localUserId(caller);
  }
  const userId = String(raw);
  if (!mayActFor(caller, userId)) throw paymentsErrors.notYourUser();
  return userId;
}

/**
 * A list's `user_id` filter as a user may give it: their own id, or none. Another user's is
 * refused (403 forbidden), never answered with the caller's own list as if the filter applied.
 * Admins and services name whom they mean; the route decides what no filter means for them.
 */
export function assertOwnListFilter(caller: Caller, requested: string | undefined, what: string): void {
  if (requested === undefined || caller.kind === 'service' || isAdmin(caller)) return;
  if (requested !== localUserId(caller)) throw paymentsErrors.notYourList(what);
}
