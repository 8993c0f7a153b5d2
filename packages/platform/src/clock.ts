// Time as the services read it. Production reads the system's; the tests of expiry, lockouts and
// token lifetimes move a clock forward instead of waiting for real time to pass
// (testing/skewed-clock.ts), so a 60 s token lifetime is tested in milliseconds. Only what the
// platform computes from time goes through it: the database's now() and oidc-provider's own clock
// stay real, and the tests that need those wait for them.

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Runs `fn` once the clock reads `atMs` or later (at once if it already does); the returned function cancels it. */
  at(atMs: number, fn: () => void): () => void;
}

/** setTimeout's longest delay; a later moment is reached in several steps. */
const longestDelayMs = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  at(atMs, fn) {
    let timer: NodeJS.Timeout;
    const arm = () => {
      const delay = atMs - Date.now();
      timer = delay > longestDelayMs ? setTimeout(arm, longestDelayMs) : setTimeout(fn, Math.max(delay, 0));
    };
    arm();
    return () => clearTimeout(timer);
  },
};
