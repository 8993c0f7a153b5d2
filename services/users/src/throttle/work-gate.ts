// Bounds the CPU-heavy work that anyone can ask for (an argon2 hash at registration, a current
// password checked by a logged-in user, a password strength estimate): at most `concurrency` run at
// once and at most `queue` wait, so a burst of them cannot take the threads and cores that logins
// need. Logins (the internal credential check) do not pass through it: they keep their speed.

export class WorkGate {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(concurrency: number, maxQueued: number) {
    this.#concurrency = concurrency;
    this.#maxQueued = maxQueued;
  }

  /** Runs `work` when a slot is free; undefined (nothing run) when the queue is full. */
  async run<T>(work: () => Promise<T> | T): Promise<{ value: T } | undefined> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueued) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return { value: await work() };
    } finally {
      // The slot passes straight to the next in line (the count stays), or is given back.
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#running--;
    }
  }
}
