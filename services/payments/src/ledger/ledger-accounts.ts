// Ledger accounts: one per owner, purpose and currency, named by a code and created on first use.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

export interface AccountRef {
  readonly code: string;
  readonly currency: string;
  readonly userId?: string;
  /** TigerBeetle's `debits_must_not_exceed_credits`: the balance can never go below zero. */
  readonly noOverdraft?: boolean;
}

/**
 * The platform's books. Card money arrives through processor clearing (what the processor owes
 * us) and is earned as platform revenue; refunds are kept apart from revenue so both stay
 * readable; a wallet is what the platform owes its user.
 */
export const accounts = {
  processorClearing: (currency: string): AccountRef => ({ code: `system:processor_clearing:${currency}`, currency }),
  platformRevenue: (currency: string): AccountRef => ({ code: `system:platform_revenue:${currency}`, currency }),
  refunds: (currency: string): AccountRef => ({ code: `system:refunds:${currency}`, currency }),
  wallet: (userId: string, currency: string): AccountRef => ({ code: `user:${userId}:wallet:${currency}`, currency, userId, noOverdraft: true }),
};

export interface Balance {
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

/** Balances by account code; accounts that were never used are absent. */
export async function balances(db: Db, codes: readonly string[]): Promise<Map<string, Balance>> {
  if (codes.length === 0) return new Map();
  const rows = await queryRows<{ code: string; debits_posted: string; credits_posted: string; debits_pending: string; credits_pending: string }>(db, sql`
    select code, debits_posted, credits_posted, debits_pending, credits_pending from ledger_accounts where code in (${sql.join(codes.map((c) => sql`${c}`), sql`, `)})`);
  return new Map(rows.map((r) => [r.code, { debitsPosted: BigInt(r.debits_posted), creditsPosted: BigInt(r.credits_posted), debitsPending: BigInt(r.debits_pending), creditsPending: BigInt(r.credits_pending) }]));
}
