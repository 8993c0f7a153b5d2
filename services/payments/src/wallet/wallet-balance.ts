// A user's wallet: one ledger account per currency, read straight from the ledger. `available`
// is what can be spent; `held` is reserved by authorised, uncaptured wallet payments.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { formatAmount, toDecimalString } from '../money/parse-amount.ts';

export async function walletOf(db: Db, userId: string) {
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
