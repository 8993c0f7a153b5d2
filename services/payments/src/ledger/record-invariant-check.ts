// A scheduled invariant check, as operators see it: the metrics an alert watches, and the
// violations in the log.
import type { Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import type { PaymentMetrics } from '../payment-metrics.ts';
import { checkLedgerInvariants, type InvariantViolation } from './check-invariants.ts';

export async function recordInvariantCheck(db: Db, metrics: PaymentMetrics, logger: Logger): Promise<InvariantViolation[]> {
  const violations = await checkLedgerInvariants(db);
  metrics.invariantChecks.inc({ result: violations.length === 0 ? 'ok' : 'violated' });
  metrics.invariantViolations.set(violations.length);
  if (violations.length > 0) logger.error({ violations }, 'LEDGER INVARIANT VIOLATED');
  return violations;
}
