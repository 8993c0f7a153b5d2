// The ledger model audit (ledger-model-suite.ts) on PGlite.
import { ledgerModelSuite } from './ledger-model-suite.ts';

ledgerModelSuite('pglite');
