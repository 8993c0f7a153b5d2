// The one way to run periodic work: a timer that never keeps the process alive, one pass at a
// time (a tick during a pass asks for one more after it, see single-flight.ts), passes skipped
// while the database is away, failures logged and tried again on the next tick, and a stop that
// waits for the pass under way. The kit starts one per declared job and stops them on shutdown.
import type { Logger } from './logger.ts';
import { SingleFlight } from './single-flight.ts';

export interface Every {
  /** Runs a pass now (or once more after the one under way). */
  kick(): void;
  /** No pass starts after this; resolves once the one under way has finished. */
  stop(): Promise<void>;
}

export interface EveryOptions {
  readonly name: string;
  readonly everyMs: number;
  readonly run: () => Promise<void>;
  readonly logger: Logger;
  /** False while the database cannot be reached: ticks are skipped until it is back. */
  readonly available?: () => boolean;
  /** Also runs a pass at once instead of waiting for the first tick. */
  readonly atStart?: boolean;
}

export function every(options: EveryOptions): Every {
  const { name, logger } = options;
  if (!(options.everyMs > 0)) throw new Error(`every(${name}): everyMs must be positive, not ${options.everyMs}`);
  let stopped = false;
  const flight = new SingleFlight(async () => {
    try {
      await options.run();
    } catch (error) {
      logger.warn({ err: error, job: name }, `${name} failed; tried again on the next tick`);
    }
  }, () => stopped);
  const tick = () => {
    if (options.available?.() === false) return;
    flight.run();
  };
  const timer = setInterval(tick, options.everyMs);
  timer.unref();
  if (options.atStart === true) tick();
  return {
    kick: tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await flight.current;
    },
  };
}
