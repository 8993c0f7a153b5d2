// The ledger on TigerBeetle's model: immutable transfers between accounts whose running totals
// change in the same transaction as the transfer that explains them. A transfer is single-phase
// (posted at once) or pending (reserved: an authorisation, a refund in flight); a pending transfer
// is later posted, wholly or partly (the rest is released), or voided, and that happens once.
import { randomUUID } from 'node:crypto';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { AccountRef } from './ledger-accounts.ts';

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
    if (input.amountMinor <= 0n) throw new Error('a transfer moves a positive amount');
    if (input.debit.code === input.credit.code) throw new Error('a transfer needs two accounts');
    if (input.debit.currency !== input.currency || input.credit.currency !== input.currency) throw new Error('a transfer stays within one currency');
    const debitId = await this.accountId(tx, input.debit);
    const creditId = await this.accountId(tx, input.credit);
    const id = input.id ?? randomUUID();
    const amount = input.amountMinor.toString();
    const pending = input.pending === true;
    // One round trip (a payment's hot path, ADR 30): both accounts locked in id order (concurrent
    // transfers on the same pair cannot deadlock), checked, and only if the check passed their
    // totals moved and the transfer recorded. A lock that waited sees the latest totals (READ
    // COMMITTED re-reads a row it had to wait for), and so does the update. The update and the
    // insert run whether or not the final select reads them (data-modifying CTEs always do).
    const [verdict] = await queryRows<{ accounts: number; currency_ok: boolean; within_credits: boolean }>(tx, sql`
      with locked as (
        select id, currency, debits_posted, credits_posted, debits_pending, no_overdraft from ledger_accounts
        where id in (${debitId}, ${creditId}) order by id for update
      ), verdict as (
        select count(*)::int as accounts,
          coalesce(bool_and(trim(currency) = ${input.currency}), false) as currency_ok,
          coalesce(bool_and(id <> ${debitId} or not no_overdraft or debits_posted + debits_pending + ${amount}::bigint <= credits_posted), false) as within_credits
        from locked
      ), passed as (
        select accounts = 2 and currency_ok and within_credits as ok from verdict
      ), moved as (
        update ledger_accounts set
          debits_posted = debits_posted + case when ${!pending} and id = ${debitId} then ${amount}::bigint else 0 end,
          debits_pending = debits_pending + case when ${pending} and id = ${debitId} then ${amount}::bigint else 0 end,
          credits_posted = credits_posted + case when ${!pending} and id = ${creditId} then ${amount}::bigint else 0 end,
          credits_pending = credits_pending + case when ${pending} and id = ${creditId} then ${amount}::bigint else 0 end
        where id in (${debitId}, ${creditId}) and (select ok from passed)
      ), recorded as (
        insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, payment_id, kind, flags, reference)
        select ${id}, ${debitId}, ${creditId}, ${amount}::bigint, ${input.currency}, ${input.paymentId ?? null}, ${input.kind}, ${pending ? 'pending' : 'single'}, ${input.reference ?? null}
        where (select ok from passed)
      )
      select accounts, currency_ok, within_credits from verdict`);
    if (verdict!.accounts !== 2 || !verdict!.currency_ok) throw new Error('account currency differs from the transfer');
    if (!verdict!.within_credits) throw new LedgerError('exceeds_credits');
    return id;
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
