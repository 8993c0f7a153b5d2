// Tracks whether the database can be reached. Told of a lost or refused connection, it marks the
// database unavailable and probes it with growing pauses (250 ms doubling to 5 s) until a probe
// succeeds: background work waits on `available` instead of failing every second, readiness goes
// false meanwhile, and the log says once that it went away and once that it came back.
import type { Logger } from '../logger.ts';
import { isDatabaseUnavailable } from './database-unavailable.ts';

const firstPauseMs = 250;
const longestPauseMs = 5_000;

export class ReachabilityWatch {
  readonly #probe: () => Promise<void>;
  readonly #logger: Logger;
  #available = true;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(probe: () => Promise<void>, logger: Logger) {
    this.#probe = probe;
    this.#logger = logger;
  }

  get available(): boolean {
    return this.#available;
  }

  /** Reports an error seen on a connection; only those of an unreachable database count. */
  lost(error: unknown): void {
    if (!isDatabaseUnavailable(error)) {
      this.#logger.warn({ err: error }, 'database connection error');
      return;
    }
    if (!this.#available || this.#stopped) return;
    this.#available = false;
    this.#logger.warn({ err: error }, 'database unavailable; probing until it answers');
    this.#schedule(0, Date.now());
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(attempt: number, since: number): void {
    const pauseMs = Math.min(longestPauseMs, firstPauseMs * 2 ** attempt);
    this.#timer = setTimeout(() => {
      this.#probe().then(
        () => {
          this.#available = true;
          this.#logger.info({ downMs: Date.now() - since, probes: attempt + 1 }, 'database available again');
        },
        (error: unknown) => {
          if (this.#stopped) return;
          this.#logger.debug({ err: error, attempt: attempt + 1 }, 'database still unavailable');
          this.#schedule(attempt + 1, since);
        },
      );
    }, pauseMs);
    this.#timer.unref();
  }
}
