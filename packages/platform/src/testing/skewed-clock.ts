// A clock that runs with real time but can be moved forward: `advance(60_000)` makes a minute pass
// at once for everything that reads the platform's clock (token expiry, stream ends, lockouts),
// firing what falls due, while the rest of the world (the database, sockets) keeps real time.
import type { Clock } from '../clock.ts';

interface Pending {
  readonly atMs: number;
  readonly fn: () => void;
  timer: NodeJS.Timeout | undefined;
}

export class SkewedClock implements Clock {
  #offsetMs = 0;
  readonly #pending = new Set<Pending>();

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  at(atMs: number, fn: () => void): () => void {
    const entry: Pending = { atMs, fn, timer: undefined };
    this.#pending.add(entry);
    this.#arm(entry);
    return () => {
      clearTimeout(entry.timer);
      this.#pending.delete(entry);
    };
  }

  /** Moves the clock forward by `ms`; whatever is now due runs (on the next turn of the event loop). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`a clock only moves forward, not by ${ms} ms`);
    this.#offsetMs += ms;
    for (const entry of this.#pending) {
      clearTimeout(entry.timer);
      this.#arm(entry);
    }
  }

  #arm(entry: Pending): void {
    entry.timer = setTimeout(() => {
      // A moment beyond setTimeout's longest delay is reached in steps.
      if (entry.atMs > this.now()) return this.#arm(entry);
      this.#pending.delete(entry);
      entry.fn();
    }, Math.min(Math.max(entry.atMs - this.now(), 0), 2 ** 31 - 1));
  }
}
