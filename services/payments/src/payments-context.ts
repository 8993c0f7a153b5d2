// What the payments routes, consumers and jobs share; service.ts builds it once (its `context`).
import type { ConfigOf } from '@paymesh/platform/config';
import type { CommitGroup } from '@paymesh/platform/db/commit-group';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Runtime } from '@paymesh/platform/runtime';
import type { paymentsConfigSpec } from './config.ts';
import type { IdempotentPosts } from './idempotency/idempotent-post.ts';
import type { LastInvariantCheck } from './ledger/last-invariant-check.ts';
import type { Ledger } from './ledger/ledger.ts';
import type { Payers } from './payers/payers.ts';
import type { PaymentMetrics } from './payment-metrics.ts';
import type { CardProcessor } from './processor/card-processor.ts';

export interface PaymentsContext {
  readonly runtime: Runtime;
  readonly db: Db;
  readonly config: ConfigOf<typeof paymentsConfigSpec>;
  /** New payments' transactions, committed in groups (PAYMENTS_COMMIT_GROUP, ADR 30). */
  readonly paymentCommits: CommitGroup;
  readonly ledger: Ledger;
  readonly processor: CardProcessor;
  readonly payers: Payers;
  readonly idempotency: IdempotentPosts;
  readonly metrics: PaymentMetrics;
  /** The last ledger invariant check (GET /payments/ledger/status). */
  readonly invariants: LastInvariantCheck;
}
