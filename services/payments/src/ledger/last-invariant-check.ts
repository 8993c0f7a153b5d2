// The last check of the ledger invariants this instance made (scheduled, or asked for by an admin
// through GET /payments/ledger/status), kept in memory: the metrics say the same to an alert,
// this says it to a person, with the violations themselves.
import type { Clock } from '@paymesh/platform/clock';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import type { PaymentMetrics } from '../payment-metrics.ts';
import type { InvariantViolation } from './check-invariants.ts';
import { recordInvariantCheck } from './record-invariant-check.ts';

export interface InvariantCheck {
  readonly checkedAtMs: number;
  readonly violations: readonly InvariantViolation[];
}

export class LastInvariantCheck {
  #last: InvariantCheck | undefined;
  readonly #db: Db;
  readonly #metrics: PaymentMetrics;
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(db: Db, metrics: PaymentMetrics, logger: Logger, clock: Clock) {
    this.#db = db;
    this.#metrics = metrics;
    this.#logger = logger;
    this.#clock = clock;
  }

  /** Checks now (counted in the metrics, violations logged) and keeps the result. */
  async run(): Promise<InvariantCheck> {
    const violations = await recordInvariantCheck(this.#db, this.#metrics, this.#logger);
    this.#last = { checkedAtMs: this.#clock.now(), violations };
    return this.#last;
  }

  /** The last result, or a check made now when this instance has made none yet (the schedule may be off or not yet due). */
  async current(): Promise<InvariantCheck> {
    return this.#last ?? this.run();
  }
}
