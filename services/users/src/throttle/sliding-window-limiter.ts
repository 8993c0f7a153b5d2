// Counts events per key in a sliding window, in memory, on this replica. A fixed window per clock
// period would let twice the limit through around each period's turn; this one keeps the times of
// the last `limit` events per key and forgets keys whose latest event left the window.

export class SlidingWindowLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  /** Per key, the times of its latest events (at most `limit`), oldest first. */
  readonly #recent = new Map<string, number[]>();
  #sweptAtMs = Date.now();

  constructor(limit: number, windowMs: number) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Seconds until every key has room for one more event (0: now), recording nothing. */
  wait(keys: readonly string[]): number {
    const nowMs = Date.now();
    const since = nowMs - this.#windowMs;
    // Keys idle for a whole window are forgotten once per window, so the map holds at most the
    // last two windows' keys.
    if (nowMs - this.#sweptAtMs >= this.#windowMs) {
      for (const [key, times] of this.#recent) if (times[times.length - 1]! <= since) this.#recent.delete(key);
      this.#sweptAtMs = nowMs;
    }
    let waitMs = 0;
    for (const key of keys) {
      const times = this.#recent.get(key);
      if (times === undefined) continue;
      while (times.length > 0 && times[0]! <= since) times.shift();
      if (times.length >= this.#limit) waitMs = Math.max(waitMs, times[0]! + this.#windowMs - nowMs);
    }
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : 0;
  }

  /** Records one event for each key. */
  record(keys: readonly string[]): void {
    const nowMs = Date.now();
    for (const key of keys) {
      const times = this.#recent.get(key) ?? [];
      times.push(nowMs);
      this.#recent.set(key, times);
    }
  }

  /**
   * Records one event for every key if each is under its limit, and returns 0; otherwise records
   * nothing and returns the seconds until the busiest key has room again (for Retry-After).
   */
  take(keys: readonly string[]): number {
    const wait = this.wait(keys);
    if (wait === 0) this.record(keys);
    return wait;
  }
}
