// The ledger model audit (ledger-model-suite.ts) on PostgreSQL, when TEST_DATABASE_URL names one.
import { testDatabaseUrl } from '@paymesh/app/testing';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { ledgerModelSuite } from './ledger-model-suite.ts';

if (testDatabaseUrl === undefined) describeOrSkip('ledger model audit (postgres)', 'needs TEST_DATABASE_URL (CI sets it)', () => {});
else ledgerModelSuite('postgres');
