/**
 * One pass of `work` at a time (the outbox relay, the users reset job): a pass asked for while one
 * runs makes exactly one more after it, since the ask may have come after the running pass looked,
 * and none once `stopped()` says so.
 */
export class SingleFlight {
  readonly #work: () => Promise<void>;
  readonly #stopped: () => boolean;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(work: () => Promise<void>, stopped: () => boolean) {
    this.#work = work;
    this.#stopped = stopped;
  }

  run(): void {
    if (this.#stopped()) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#work().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.run();
      }
    });
  }

  /** The pass running now, if any (a stop awaits it). */
  get current(): Promise<void> | undefined {
    return this.#running;
  }
}
