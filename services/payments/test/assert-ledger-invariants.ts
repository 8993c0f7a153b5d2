// The check that closes a suite ("the ledger invariants hold after every scenario above"). On an
// empty ledger every invariant holds, so a check run without the scenarios before it (a filtered
// run, a reordered file) would pass having checked nothing: it first asserts there is something.
import assert from 'node:assert/strict';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '../src/ledger/check-invariants.ts';

export async function assertInvariantsOverScenarios(db: Db): Promise<void> {
  const [ledger] = await queryRows<{ transfers: number; accounts: number }>(db, sql`select
    (select count(*) from ledger_transfers)::int as transfers, (select count(*) from ledger_accounts)::int as accounts`);
  assert.ok(Number(ledger!.transfers) > 0 && Number(ledger!.accounts) > 0, 'the scenarios above left no ledger to check: run the whole file');
  assert.deepEqual(await checkLedgerInvariants(db), []);
}
