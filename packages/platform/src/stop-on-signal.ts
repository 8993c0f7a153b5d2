// The one signal handling, for a service's process (runMain) and the embedded platform (npm start):
// SIGINT or SIGTERM runs the ordered shutdown once and exits 0. The stop is bounded: a stuck close
// (a request that never ends, a broker that never answers) must not keep the pod from terminating.
// A signalled stop is an orderly stop, so the exit status is 0 whatever the drain met; what went
// wrong is in the log.
import type { Logger } from './logger.ts';

export function stopOnSignal(options: { stop: () => Promise<void>; boundMs: number; logger: Logger; onSignal?: (signal: NodeJS.Signals) => void }): void {
  const { logger } = options;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    options.onSignal?.(signal);
    setTimeout(() => {
      logger.error({ boundMs: options.boundMs }, 'shutdown drain took too long; exiting');
      process.exit(0);
    }, options.boundMs).unref();
    options.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while shutting down; exiting');
        process.exit(0);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop(signal));
}
