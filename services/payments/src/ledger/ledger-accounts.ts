// Ledger accounts: one per owner, purpose and currency, named by a code and created on first use.
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
