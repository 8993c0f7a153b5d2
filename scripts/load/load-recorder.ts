// What a load run saw: every answer by operation, with its time, and whether the scenario expected
// it (a declined card's 402 is expected; a 500 never is). Latencies are kept whole (a bounded
// run: at most --max-requests of them) for exact nearest-rank percentiles.

export interface Answer {
  /** The scenario step, e.g. "POST /payments (declined)". */
  readonly operation: string;
  readonly status: number;
  /** The error object's code (Stripe-style `error.code`, or the contract's), when there is one. */
  readonly code?: string;
  readonly ms: number;
  readonly expected: boolean;
}

export interface OperationSummary {
  readonly operation: string;
  readonly requests: number;
  readonly unexpected: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

export interface LoadSummary {
  readonly seconds: number;
  readonly requests: number;
  readonly ratePerSec: number;
  readonly unexpected: number;
  readonly errorRate: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Answers that were not a 2xx, expected or not, by "status code" (e.g. "402 card_declined"). */
  readonly answersByCode: Readonly<Record<string, number>>;
  /** Unexpected answers only, by "status code" and operation: what to look at. */
  readonly errorsByCode: Readonly<Record<string, number>>;
  readonly operations: readonly OperationSummary[];
  readonly streamEvents: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export class LoadRecorder {
  readonly #answers: Answer[] = [];
  #startedAt = performance.now();
  #unexpected = 0;
  streamEvents = 0;

  /** Starts the clock (after the run's setup: sign-ups are not load). */
  begin(): void {
    this.#startedAt = performance.now();
  }

  record(answer: Answer): void {
    this.#answers.push(answer);
    if (!answer.expected) this.#unexpected += 1;
  }

  get requests(): number {
    return this.#answers.length;
  }

  get unexpected(): number {
    return this.#unexpected;
  }

  get elapsedSec(): number {
    return (performance.now() - this.#startedAt) / 1000;
  }

  /** The live line: requests, rate, unexpected answers, p95 of the last thousand. */
  progressLine(): string {
    const recent = this.#answers.slice(-1000).map((a) => a.ms).sort((a, b) => a - b);
    const seconds = this.elapsedSec;
    return `${seconds.toFixed(0).padStart(4)} s  ${String(this.requests).padStart(7)} requests  ${(this.requests / seconds).toFixed(1).padStart(7)}/s  unexpected ${this.#unexpected}  p95 ${percentile(recent, 95).toFixed(1)} ms  stream events ${this.streamEvents}`;
  }

  summary(): LoadSummary {
    const seconds = this.elapsedSec;
    const all = this.#answers.map((a) => a.ms).sort((a, b) => a - b);
    const answersByCode: Record<string, number> = {};
    const errorsByCode: Record<string, number> = {};
    const byOperation = new Map<string, Answer[]>();
    for (const answer of this.#answers) {
      const key = `${answer.status}${answer.code === undefined ? '' : ` ${answer.code}`}`;
      if (answer.status < 200 || answer.status >= 300) answersByCode[key] = (answersByCode[key] ?? 0) + 1;
      if (!answer.expected) errorsByCode[`${key} (${answer.operation})`] = (errorsByCode[`${key} (${answer.operation})`] ?? 0) + 1;
      const list = byOperation.get(answer.operation) ?? [];
      if (list.length === 0) byOperation.set(answer.operation, list);
      list.push(answer);
    }
    const operations = [...byOperation.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([operation, answers]) => {
      const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
      return { operation, requests: answers.length, unexpected: answers.filter((a) => !a.expected).length, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), p99Ms: percentile(sorted, 99) };
    });
    return {
      seconds, requests: all.length, ratePerSec: all.length / seconds, unexpected: this.#unexpected,
      errorRate: all.length === 0 ? 0 : this.#unexpected / all.length,
      p50Ms: percentile(all, 50), p95Ms: percentile(all, 95), p99Ms: percentile(all, 99),
      answersByCode, errorsByCode, operations, streamEvents: this.streamEvents,
    };
  }
}

/** The summary as a terminal table. */
export function formatSummary(s: LoadSummary): string {
  const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(1));
  const lines = [
    `${s.requests} requests in ${s.seconds.toFixed(1)} s: ${s.ratePerSec.toFixed(1)}/s, p50 ${f(s.p50Ms)} ms, p95 ${f(s.p95Ms)} ms, p99 ${f(s.p99Ms)} ms`,
    `unexpected answers: ${s.unexpected} (${(s.errorRate * 100).toFixed(2)}%); live stream events received: ${s.streamEvents}`,
    '',
    `${'operation'.padEnd(44)} ${'requests'.padStart(8)} ${'unexp.'.padStart(6)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`,
    ...s.operations.map((o) => `${o.operation.padEnd(44)} ${String(o.requests).padStart(8)} ${String(o.unexpected).padStart(6)} ${f(o.p50Ms).padStart(8)} ${f(o.p95Ms).padStart(8)} ${f(o.p99Ms).padStart(8)}`),
  ];
  const codes = Object.entries(s.answersByCode).sort(([, a], [, b]) => b - a);
  if (codes.length > 0) lines.push('', 'answers other than 2xx (expected ones included):', ...codes.map(([code, n]) => `  ${code}: ${n}`));
  const errors = Object.entries(s.errorsByCode).sort(([, a], [, b]) => b - a);
  if (errors.length > 0) lines.push('', 'unexpected answers:', ...errors.map(([code, n]) => `  ${code}: ${n}`));
  return lines.join('\n');
}
