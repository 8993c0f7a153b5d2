// A user's wallet: one ledger account per currency, read straight from the ledger. `available`
// is what can be spent; `held` is reserved by authorised, uncaptured wallet payments.
import { Type, type Static } from '@fastify/type-provider-typebox';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { formatAmount, publicCurrencySchema, toDecimalString } from '../money/parse-amount.ts';

/** The wallet as walletOf() writes it. */
export const walletSchema = Type.Object({
  object: Type.Literal('wallet'),
  user_id: Type.Integer({ minimum: 1 }),
  balances: Type.Array(Type.Object({
    currency: publicCurrencySchema,
    available: Type.Integer({ minimum: 0, description: 'What can be spent, in minor units.' }),
    available_decimal: Type.String({ description: 'The same in the major unit, as an exact decimal string.' }),
    available_display: Type.String({ description: 'The same formatted for a person: "$100.50".' }),
    held: Type.Integer({ minimum: 0, description: 'Reserved by authorised, uncaptured wallet payments, in minor units; not included in available.' }),
  }), { description: 'One per currency the wallet has been used in (topped up, paid from or refunded to), ordered by currency code; empty for a wallet never used.' }),
}, { description: 'A user\'s wallet balances, read from the ledger.' });

export async function walletOf(db: Db, userId: string): Promise<Static<typeof walletSchema>> {
  const rows = await queryRows<{ currency: string; available: string; held: string }>(db, sql`
    select currency, (credits_posted - debits_posted - debits_pending)::text as available, debits_pending::text as held
    from ledger_accounts where user_id = ${userId} and no_overdraft order by currency`);
  return {
    object: 'wallet',
    user_id: Number(userId),
    balances: rows.map((r) => {
      const currency = r.currency.trim();
      const available = BigInt(r.available);
      return {
        currency: currency.toLowerCase(),
        available: Number(available),
        available_decimal: toDecimalString(available, currency),
        available_display: formatAmount(available, currency),
        held: Number(r.held),
      };
    }),
  };
}
