// The sizes of one fault run: the full run (issue 12 §4's figures) or `--short` (CI, ≤ 3 min).
export interface RunSettings {
  /** The run's temporary folder: PostgreSQL, NATS, PGlite data and every process's log. */
  readonly scratch: string;
  /** Makes user names and keys unique to this run. */
  readonly tag: string;
  readonly paymentsPerScenario: number;
  readonly clients: number;
  /** New payments per second (see LoadOptions): unpaced, 16 clients saturate the 2 cores and the inbox lags ~11 s with no fault at all. */
  readonly paymentsPerSecond: number;
  readonly payers: number;
  /** How long one payment's client keeps retrying its key before it gives up (an audit failure). */
  readonly perPaymentDeadlineMs: number;
  readonly attemptTimeoutMs: number;
  /** How long the runner waits for the notifications of a scenario's payments. */
  readonly settleTimeoutMs: number;
}

export function runSettings(short: boolean, scratch: string, tag: string, paymentsPerScenario?: number): RunSettings {
  return {
    scratch,
    tag,
    paymentsPerScenario: paymentsPerScenario ?? (short ? 400 : 1_600),
    clients: 16,
    paymentsPerSecond: 40,
    payers: 4,
    perPaymentDeadlineMs: 90_000,
    attemptTimeoutMs: 10_000,
    settleTimeoutMs: 60_000,
  };
}
