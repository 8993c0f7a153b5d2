import type { Logger } from './logger.ts';

/** Runs one step of a shutdown; its failure is logged, never thrown: the next steps must run. */
export async function closingStep(logger: Logger, step: string, run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    logger.error({ err: error, step }, 'shutdown step failed; carrying on');
  }
}
