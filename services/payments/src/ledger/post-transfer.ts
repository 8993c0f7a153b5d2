// Posts one balanced transfer: the debit and the credit of the same amount, with both accounts'
// running totals updated in the caller's transaction. Transfers are never updated or deleted;
// a correction is another transfer.
import { randomUUID } from 'node:crypto';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';

export interface TransferInput {
  readonly debitAccount: string;
  readonly creditAccount: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly paymentId: string;
  readonly kind: 'payment';
}

/** Account codes: `<owner>:<purpose>:<currency>`, created on first use. */
export const systemAccounts = {
  processorClearing: (currency: string) => `system:processor_clearing:${currency}`,
  platformRevenue: (currency: string) => `system:platform_revenue:${currency}`,
};

export async function postTransfer(tx: Db, input: TransferInput): Promise<string> {
  if (input.amountMinor <= 0n) throw new Error('a transfer moves a positive amount');
  if (input.debitAccount === input.creditAccount) throw new Error('a transfer needs two accounts');
  await tx.execute(sql`insert into ledger_accounts (code, currency) values (${input.debitAccount}, ${input.currency}), (${input.creditAccount}, ${input.currency})
    on conflict (code) do nothing`);
  // Lock both rows in id order so concurrent transfers on the same pair cannot deadlock.
  const accounts = await queryRows<{ id: string; code: string; currency: string }>(tx, sql`
    select id, code, currency from ledger_accounts where code in (${input.debitAccount}, ${input.creditAccount}) order by id for update`);
  const debit = accounts.find((a) => a.code === input.debitAccount);
  const credit = accounts.find((a) => a.code === input.creditAccount);
  if (debit === undefined || credit === undefined) throw new Error('ledger account missing after upsert');
  if (debit.currency.trim() !== input.currency || credit.currency.trim() !== input.currency) throw new Error('a transfer stays within one currency');
  const id = randomUUID();
  const amount = input.amountMinor.toString();
  await tx.execute(sql`update ledger_accounts set debits_posted = debits_posted + ${amount}::bigint where id = ${debit.id}`);
  await tx.execute(sql`update ledger_accounts set credits_posted = credits_posted + ${amount}::bigint where id = ${credit.id}`);
  await tx.execute(sql`insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, payment_id, kind)
    values (${id}, ${debit.id}, ${credit.id}, ${amount}::bigint, ${input.currency}, ${input.paymentId}, ${input.kind})`);
  return id;
}
