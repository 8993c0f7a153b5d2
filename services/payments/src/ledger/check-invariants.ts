// The ledger's invariants (docs/invariants.md), checked by tests after every scenario and
// available to operators: per currency, debits equal credits; every account's totals equal the
// sum of its transfers.
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';

export interface InvariantViolation {
  readonly rule: string;
  readonly detail: string;
}

export async function checkLedgerInvariants(db: Db): Promise<InvariantViolation[]> {
  const violations: InvariantViolation[] = [];
  const perCurrency = await queryRows<{ currency: string; debits: string; credits: string }>(db, sql`
    select currency, sum(debits_posted)::text as debits, sum(credits_posted)::text as credits from ledger_accounts group by currency`);
  for (const row of perCurrency) {
    if (row.debits !== row.credits) violations.push({ rule: 'debits equal credits per currency', detail: `${row.currency}: debits ${row.debits} ≠ credits ${row.credits}` });
  }
  const drift = await queryRows<{ code: string; debits_posted: string; credits_posted: string; debits: string; credits: string }>(db, sql`
    select a.code, a.debits_posted::text, a.credits_posted::text,
      coalesce((select sum(amount_minor) from ledger_transfers t where t.debit_account_id = a.id), 0)::text as debits,
      coalesce((select sum(amount_minor) from ledger_transfers t where t.credit_account_id = a.id), 0)::text as credits
    from ledger_accounts a`);
  for (const row of drift) {
    if (row.debits_posted !== row.debits || row.credits_posted !== row.credits) {
      violations.push({ rule: 'balance equals the sum of its entries', detail: `${row.code}: stored ${row.debits_posted}/${row.credits_posted}, entries ${row.debits}/${row.credits}` });
    }
  }
  return violations;
}
