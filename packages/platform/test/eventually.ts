// Polling for tests that wait on something asynchronous (a relay pass, a NATS delivery): bounded in
// time, so a lost event fails the test instead of hanging it.

/** Polls `probe` until it returns a value other than undefined, or throws once `timeoutMs` has passed. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, options: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${options.what ?? 'condition'} not met within ${options.timeoutMs ?? 5_000} ms`);
    await sleep(options.intervalMs ?? 20);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
