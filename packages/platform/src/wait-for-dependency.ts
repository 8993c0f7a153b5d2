// At start a service may come up before its database or its broker does (a whole deployment
// starting at once, a database still recovering): it waits for them, with growing pauses and a
// log line per wait, and gives up (the caller exits 1) only past the start-up deadline.
import type { Logger } from './logger.ts';

const firstPauseMs = 250;
const longestPauseMs = 5_000;

export interface WaitOptions {
  readonly logger: Logger;
  /** Epoch ms after which the last error is thrown instead of waiting again. */
  readonly deadline: number;
  /** Whether an error may go away by waiting; others are thrown at once (a wrong password, say). */
  readonly retryable: (error: unknown) => boolean;
}

export async function waitForDependency<T>(dependency: string, open: () => Promise<T>, options: WaitOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const pauseMs = Math.min(longestPauseMs, firstPauseMs * 2 ** (attempt - 1));
      if (!options.retryable(error)) throw error;
      if (Date.now() + pauseMs > options.deadline) {
        options.logger.error({ err: error, dependency, attempts: attempt }, `${dependency} still unavailable at the start-up deadline; giving up`);
        throw error;
      }
      options.logger.warn({ err: error, dependency, attempt, pauseMs }, `${dependency} unavailable at start; waiting`);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
}
