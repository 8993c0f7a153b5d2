// The invariants of docs/invariants.md that can be read off the tables, checked by the tests after
// their scenarios, by the model-based test after every step, and on a schedule in production
// (the ledger_invariant_checks_total metric).
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

export interface InvariantViolation {
  readonly rule: string;
  readonly detail: string;
}

export async function checkLedgerInvariants(db: Db): Promise<InvariantViolation[]> {
  const violations: InvariantViolation[] = [];
  const found = (rule: string, details: string[]) => violations.push(...details.map((detail) => ({ rule, detail })));

  const perCurrency = await queryRows<{ currency: string; dp: string; cp: string; dq: string; cq: string }>(db, sql`
    select currency, sum(debits_posted)::text as dp, sum(credits_posted)::text as cp, sum(debits_pending)::text as dq, sum(credits_pending)::text as cq
    from ledger_accounts group by currency`);
  found('per currency, debits equal credits (posted and pending)', perCurrency
    .filter((r) => r.dp !== r.cp || r.dq !== r.cq)
    .map((r) => `${r.currency}: posted ${r.dp}/${r.cp}, pending ${r.dq}/${r.cq}`));

  // Posted: single-phase transfers and posts of pending ones. Pending: pending transfers not yet resolved.
  const drift = await queryRows<{ code: string; stored: string; summed: string }>(db, sql`
    with entries as (
      select t.debit_account_id as account, t.amount_minor as debit, 0::bigint as credit, t.flags,
        exists (select 1 from ledger_transfers r where r.pending_id = t.id) as resolved
      from ledger_transfers t
      union all
      select t.credit_account_id, 0, t.amount_minor, t.flags,
        exists (select 1 from ledger_transfers r where r.pending_id = t.id)
      from ledger_transfers t
    ), sums as (
      select account,
        coalesce(sum(debit) filter (where flags in ('single', 'post_pending')), 0) as dp,
        coalesce(sum(credit) filter (where flags in ('single', 'post_pending')), 0) as cp,
        coalesce(sum(debit) filter (where flags = 'pending' and not resolved), 0) as dq,
        coalesce(sum(credit) filter (where flags = 'pending' and not resolved), 0) as cq
      from entries group by account
    )
    select a.code, concat_ws('/', a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending) as stored,
      concat_ws('/', coalesce(s.dp, 0), coalesce(s.cp, 0), coalesce(s.dq, 0), coalesce(s.cq, 0)) as summed
    from ledger_accounts a left join sums s on s.account = a.id
    where (a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending) is distinct from (coalesce(s.dp, 0), coalesce(s.cp, 0), coalesce(s.dq, 0), coalesce(s.cq, 0))`);
  found('each balance equals the sum of its entries (posted/posted/pending/pending)', drift.map((r) => `${r.code}: stored ${r.stored}, entries ${r.summed}`));

  const resolutions = await queryRows<{ id: string; detail: string }>(db, sql`
    select p.id, concat('pending ', p.amount_minor, ' resolved by ', r.flags, ' ', r.amount_minor) as detail
    from ledger_transfers r join ledger_transfers p on p.id = r.pending_id
    where p.flags <> 'pending' or r.amount_minor > p.amount_minor or r.debit_account_id <> p.debit_account_id or r.credit_account_id <> p.credit_account_id
      or (r.flags = 'void_pending' and r.amount_minor <> p.amount_minor)`);
  found('a pending transfer resolves at most once, within its amount, on its own accounts', resolutions.map((r) => `${r.id}: ${r.detail}`));

  const overdrawn = await queryRows<{ code: string; detail: string }>(db, sql`
    select code, concat('debits ', debits_posted, ' + pending ', debits_pending, ' > credits ', credits_posted) as detail
    from ledger_accounts where no_overdraft and debits_posted + debits_pending > credits_posted`);
  found('no wallet below zero', overdrawn.map((r) => `${r.code}: ${r.detail}`));

  // Each payment agrees with its ledger: what it received and refunded is what was posted for it.
  const payments = await queryRows<{ id: string; detail: string }>(db, sql`
    with posted as (
      select payment_id,
        coalesce(sum(amount_minor) filter (where kind = 'payment' and flags in ('single', 'post_pending')), 0) as received,
        coalesce(sum(amount_minor) filter (where kind = 'refund' and flags in ('single', 'post_pending')), 0) as refunded
      from ledger_transfers where payment_id is not null group by payment_id
    )
    select p.id, concat('payment says received ', p.amount_received, ' refunded ', p.amount_refunded, '; ledger ', coalesce(l.received, 0), ' / ', coalesce(l.refunded, 0)) as detail
    from payments p left join posted l on l.payment_id = p.id
    left join lateral (select coalesce(sum(amount_minor), 0) as pending_refunds from refunds f where f.payment_id = p.id and f.status = 'pending') f on true
    where p.amount_received <> coalesce(l.received, 0) or p.amount_refunded <> coalesce(l.refunded, 0) + f.pending_refunds`);
  found("each payment's received and refunded amounts equal its posted transfers", payments.map((r) => `${r.id}: ${r.detail}`));
  return violations;
}
