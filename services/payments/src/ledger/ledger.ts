// The ledger on TigerBeetle's model: immutable transfers between accounts whose running totals
// change in the same transaction as the transfer that explains them. A transfer is single-phase
// (posted at once) or pending (reserved: an authorisation, a refund in flight); a pending transfer
// is later posted, wholly or partly (the rest is released), or voided, and that happens once.
import { randomUUID } from 'node:crypto';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { AccountRef } from './ledger-accounts.ts';
import { holdWrite, type HeldWrite } from '@paymesh/platform/db/held-writes';

export type TransferKind = 'payment' | 'refund' | 'top_up';

export interface NewTransfer {
  /** Given when the caller must name the transfer before it exists (a payment row refers to it). */
  readonly id?: string;
  readonly debit: AccountRef;
  readonly credit: AccountRef;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly kind: TransferKind;
  readonly pending?: boolean;
  readonly paymentId?: string;
  /** The refund or top-up the transfer belongs to. */
  readonly reference?: string;
}

/** TigerBeetle's result codes for the failures callers handle; anything else is a bug and throws Error. */
export type LedgerFailure = 'exceeds_credits' | 'pending_transfer_already_resolved' | 'exceeds_pending_transfer_amount';

export class LedgerError extends Error {
  readonly code: LedgerFailure;
  constructor(code: LedgerFailure) {
    super(`ledger refused the transfer: ${code}`);
    this.name = 'LedgerError';
    this.code = code;
  }
}

export class Ledger {
  /** Account ids by code. Accounts are never deleted, so a committed id is good for ever. */
  readonly #accountIds = new Map<string, string>();

  async accountId(tx: Db, account: AccountRef): Promise<string> {
    const known = this.#accountIds.get(account.code);
    if (known !== undefined) return known;
    const inserted = await queryRows<{ id: string }>(tx, sql`
      insert into ledger_accounts (code, currency, user_id, no_overdraft)
      values (${account.code}, ${account.currency}, ${account.userId ?? null}, ${account.noOverdraft ?? false})
      on conflict (code) do nothing returning id`);
    // Created by this transaction, which may still roll back: not remembered yet.
    if (inserted[0] !== undefined) return inserted[0].id;
    // The conflict waited for the other inserter to commit, so this row is committed.
    const [row] = await queryRows<{ id: string }>(tx, sql`select id from ledger_accounts where code = ${account.code}`);
    this.#accountIds.set(account.code, row!.id);
    return row!.id;
  }

  /** Creates a single-phase or pending transfer and returns its id. */
  async transfer(tx: Db, input: NewTransfer): Promise<string> {
    const row = await this.#row(tx, input);
    await heldTransfers.write(tx, [row]);
    return row.id;
  }

  /**
   * `transfer`, held until the end of the commit group it runs in (held-writes.ts) and made there
   * with the group's others in one statement; made at once outside a group. For a transfer whose
   * verdict the caller needs before none of its other writes (a card payment's). One the group's
   * statement refuses fails the group, whose units are then applied one at a time, each transfer
   * checked alone as `transfer` checks it.
   */
  async transferHeld(tx: Db, input: NewTransfer): Promise<string> {
    const row = await this.#row(tx, input);
    if (!holdWrite(heldTransfers, row)) await heldTransfers.write(tx, [row]);
    return row.id;
  }

  async #row(tx: Db, input: NewTransfer): Promise<TransferRow> {
    if (input.amountMinor <= 0n) throw new Error('a transfer moves a positive amount');
    if (input.debit.code === input.credit.code) throw new Error('a transfer needs two accounts');
    if (input.debit.currency !== input.currency || input.credit.currency !== input.currency) throw new Error('a transfer stays within one currency');
    return {
      id: input.id ?? randomUUID(),
      debit: await this.accountId(tx, input.debit),
      credit: await this.accountId(tx, input.credit),
      amount: input.amountMinor.toString(),
      currency: input.currency,
      pending: input.pending === true,
      kind: input.kind,
      payment_id: input.paymentId ?? null,
      reference: input.reference ?? null,
    };
  }

  /** Posts a pending transfer: all of it, or `amountMinor` of it with the rest released. */
  async postPending(tx: Db, pendingId: string, amountMinor?: bigint): Promise<string> {
    return this.#resolve(tx, pendingId, 'post_pending', amountMinor);
  }

  /** Voids a pending transfer: the whole reservation is released. */
  async voidPending(tx: Db, pendingId: string): Promise<string> {
    return this.#resolve(tx, pendingId, 'void_pending', undefined);
  }

  async #resolve(tx: Db, pendingId: string, flags: 'post_pending' | 'void_pending', amountMinor: bigint | undefined): Promise<string> {
    const [pending] = await queryRows<{ debit_account_id: string; credit_account_id: string; amount_minor: string; currency: string; payment_id: string | null; kind: TransferKind; reference: string | null; resolved: boolean }>(tx, sql`
      select debit_account_id, credit_account_id, amount_minor, currency, payment_id, kind, reference,
        exists (select 1 from ledger_transfers r where r.pending_id = t.id) as resolved
      from ledger_transfers t where id = ${pendingId} and flags = 'pending'`);
    if (pending === undefined) throw new Error(`no pending transfer ${pendingId}`);
    if (pending.resolved) throw new LedgerError('pending_transfer_already_resolved');
    const reserved = BigInt(pending.amount_minor);
    const posted = flags === 'post_pending' ? (amountMinor ?? reserved) : 0n;
    if (posted > reserved || (flags === 'post_pending' && posted <= 0n)) throw new LedgerError('exceeds_pending_transfer_amount');
    await this.#lock(tx, pending.debit_account_id, pending.credit_account_id);
    const id = randomUUID();
    // The resolution row goes in first: the unique index on pending_id makes a second one fail
    // before any balance moves.
    await tx.execute(sql`insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, payment_id, kind, flags, pending_id, reference)
      values (${id}, ${pending.debit_account_id}, ${pending.credit_account_id}, ${(flags === 'void_pending' ? reserved : posted).toString()}::bigint, ${pending.currency}, ${pending.payment_id}, ${pending.kind}, ${flags}, ${pendingId}, ${pending.reference})`);
    await tx.execute(sql`update ledger_accounts set
        debits_pending = debits_pending - case when id = ${pending.debit_account_id} then ${reserved.toString()}::bigint else 0 end,
        debits_posted = debits_posted + case when id = ${pending.debit_account_id} then ${posted.toString()}::bigint else 0 end,
        credits_pending = credits_pending - case when id = ${pending.credit_account_id} then ${reserved.toString()}::bigint else 0 end,
        credits_posted = credits_posted + case when id = ${pending.credit_account_id} then ${posted.toString()}::bigint else 0 end
      where id in (${pending.debit_account_id}, ${pending.credit_account_id})`);
    return id;
  }

  /** Locks both accounts in id order, so that concurrent transfers on the same pair cannot deadlock. */
  async #lock(tx: Db, a: string, b: string): Promise<void> {
    await tx.execute(sql`select id from ledger_accounts where id in (${a}, ${b}) order by id for update`);
  }
}

/** A transfer ready to be made: its accounts resolved, its amount as text (bigint never passes through a float). */
interface TransferRow {
  readonly id: string;
  readonly debit: string;
  readonly credit: string;
  readonly amount: string;
  readonly currency: string;
  readonly pending: boolean;
  readonly kind: TransferKind;
  readonly payment_id: string | null;
  readonly reference: string | null;
}

/** Every account found with the transfers' currency, and no overdraft rule broken. */
interface Verdict { accounts_ok: boolean; currency_ok: boolean; within_credits: boolean }

/** Transfers made one statement at a time (one) or for a whole commit group (several). */
const heldTransfers: HeldWrite<TransferRow> = {
  async write(tx, rows) {
    const verdict = rows.length === 1 ? await transferOne(tx, rows[0]!) : await transferMany(tx, rows);
    if (!verdict.accounts_ok || !verdict.currency_ok) throw new Error('account currency differs from the transfer');
    if (!verdict.within_credits) throw new LedgerError('exceeds_credits');
  },
};

/**
 * One round trip (a payment's hot path, ADR 30): both accounts locked in id order (concurrent
 * transfers on the same pair cannot deadlock), checked, and only if the check passed their totals
 * moved and the transfer recorded. A lock that waited sees the latest totals (READ COMMITTED
 * re-reads a row it had to wait for), and so does the update. The update and the insert run
 * whether or not the final select reads them (data-modifying CTEs always do).
 */
async function transferOne(tx: Db, t: TransferRow): Promise<Verdict> {
  const [verdict] = await queryRows<Verdict>(tx, sql`
    with locked as (
      select id, currency, debits_posted, credits_posted, debits_pending, no_overdraft from ledger_accounts
      where id in (${t.debit}, ${t.credit}) order by id for update
    ), verdict as (
      select count(*)::int as accounts,
        coalesce(bool_and(trim(currency) = ${t.currency}), false) as currency_ok,
        coalesce(bool_and(id <> ${t.debit} or not no_overdraft or debits_posted + debits_pending + ${t.amount}::bigint <= credits_posted), false) as within_credits
      from locked
    ), passed as (
      select accounts = 2 and currency_ok and within_credits as ok from verdict
    ), moved as (
      update ledger_accounts set
        debits_posted = debits_posted + case when ${!t.pending} and id = ${t.debit} then ${t.amount}::bigint else 0 end,
        debits_pending = debits_pending + case when ${t.pending} and id = ${t.debit} then ${t.amount}::bigint else 0 end,
        credits_posted = credits_posted + case when ${!t.pending} and id = ${t.credit} then ${t.amount}::bigint else 0 end,
        credits_pending = credits_pending + case when ${t.pending} and id = ${t.credit} then ${t.amount}::bigint else 0 end
      where id in (${t.debit}, ${t.credit}) and (select ok from passed)
    ), recorded as (
      insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, payment_id, kind, flags, reference)
      select ${t.id}, ${t.debit}, ${t.credit}, ${t.amount}::bigint, ${t.currency}, ${t.payment_id}, ${t.kind}, ${t.pending ? 'pending' : 'single'}, ${t.reference}
      where (select ok from passed)
    )
    select accounts = 2 as accounts_ok, currency_ok, within_credits from verdict`);
  return verdict!;
}

/**
 * A commit group's transfers in one round trip: every account they touch locked once, in id order;
 * each transfer's currency checked against both its accounts; each account with the overdraft rule
 * checked against the sum of the group's debits on it (stricter than one at a time, which would
 * also count the group's earlier credits: a group refused here is applied again one unit at a time,
 * exactly); then each account's totals moved once by the group's sums, and the transfers recorded.
 */
async function transferMany(tx: Db, rows: readonly TransferRow[]): Promise<Verdict> {
  const [verdict] = await queryRows<Verdict>(tx, sql`
    with x as (
      select * from jsonb_to_recordset(${JSON.stringify(rows.map((row, n) => ({ ...row, n })))}::jsonb)
        as x(n int, id uuid, debit bigint, credit bigint, amount bigint, currency text, pending boolean, kind text, payment_id text, reference text)
    ), sides as (
      select debit as account, case when pending then 0 else amount end as dp, case when pending then amount else 0 end as dpe, 0::bigint as cp, 0::bigint as cpe from x
      union all
      select credit, 0::bigint, 0::bigint, case when pending then 0 else amount end, case when pending then amount else 0 end from x
    ), deltas as (
      select account, sum(dp)::bigint as dp, sum(dpe)::bigint as dpe, sum(cp)::bigint as cp, sum(cpe)::bigint as cpe from sides group by account
    ), locked as (
      select id, currency, debits_posted, credits_posted, debits_pending, no_overdraft from ledger_accounts
      where id in (select account from deltas) order by id for update
    ), verdict as (
      select (select count(*)::int from locked) as accounts, (select count(*)::int from deltas) as expected,
        not exists (select 1 from x left join locked d on d.id = x.debit left join locked c on c.id = x.credit
          where d.id is null or c.id is null or trim(d.currency) <> x.currency or trim(c.currency) <> x.currency) as currency_ok,
        not exists (select 1 from locked l join deltas d on d.account = l.id
          where l.no_overdraft and l.debits_posted + l.debits_pending + d.dp + d.dpe > l.credits_posted) as within_credits
    ), passed as (
      select accounts = expected and currency_ok and within_credits as ok from verdict
    ), moved as (
      update ledger_accounts a set
        debits_posted = a.debits_posted + d.dp, debits_pending = a.debits_pending + d.dpe,
        credits_posted = a.credits_posted + d.cp, credits_pending = a.credits_pending + d.cpe
      from deltas d where a.id = d.account and (select ok from passed)
    ), recorded as (
      insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, payment_id, kind, flags, reference)
      select id, debit, credit, amount, currency, payment_id, kind, case when pending then 'pending' else 'single' end, reference
      from x where (select ok from passed) order by n
    )
    select accounts = expected as accounts_ok, currency_ok, within_credits from verdict`);
  return verdict!;
}
