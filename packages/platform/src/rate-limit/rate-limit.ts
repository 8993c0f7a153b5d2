// The one rate limiter: rate-limiter-flexible's RateLimiterPostgres over the service's own
// database (table rate_limits, platform migration 0002), so a limit holds over every replica.
// Each key gets a fixed window that opens at its first event (not at a clock boundary). Why this
// library and store, and how PGlite is reached: docs/adr/0018-one-rate-limiter.md.
// Count before or after a transaction, never inside one: the limiter writes through `db`, and
// PGlite, one connection, would wait for the transaction to end.
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { sql, type Db } from '../db/open-database.ts';
import { sqlClientOf } from './sql-client.ts';

export interface RateLimitOptions {
  /** Keeps this limit's keys apart from other limits' in the shared table. */
  readonly name: string;
  /** Events allowed per key within a window. */
  readonly limit: number;
  readonly windowSec: number;
}

// Rows whose window ended an hour ago are deleted at most this often, by the next event counted.
const sweepEveryMs = 5 * 60_000;

export class RateLimit {
  readonly #limiter: RateLimiterPostgres;
  readonly #db: Db;
  readonly #prefix: string;
  readonly #limit: number;
  #sweptAtMs = Date.now();

  constructor(db: Db, options: RateLimitOptions) {
    this.#db = db;
    this.#prefix = `${options.name}:`;
    this.#limit = options.limit;
    this.#limiter = new RateLimiterPostgres({
      storeClient: sqlClientOf(db),
      storeType: 'pool',
      tableName: 'rate_limits',
      // The migration made the table; expired rows are swept by `consume`, not by a timer the
      // library would keep running after the service closed its database.
      tableCreated: true,
      clearExpiredByTimeout: false,
      keyPrefix: options.name,
      points: options.limit,
      duration: options.windowSec,
    });
  }

  /** Counts one event for `key`; the seconds to wait (for Retry-After) when over the limit, else 0. */
  async take(key: string): Promise<number> {
    return takeAll([{ limit: this, key }]);
  }

  /** Whether `key` has used up its limit in the current window; counts nothing. */
  async exhausted(key: string): Promise<boolean> {
    const res = await this.#limiter.get(key);
    return res !== null && res.consumedPoints >= this.#limit;
  }

  /** @internal One event for `key`: the library's answer, refused or not. */
  async consume(key: string): Promise<{ refused: boolean; msBeforeNext: number }> {
    if (Date.now() - this.#sweptAtMs >= sweepEveryMs) {
      this.#sweptAtMs = Date.now();
      await this.#db.execute(sql`delete from rate_limits where starts_with(key, ${this.#prefix}) and expire < ${Date.now() - 3_600_000}`);
    }
    try {
      const res = await this.#limiter.consume(key, 1);
      return { refused: false, msBeforeNext: res.msBeforeNext };
    } catch (rejection) {
      // The library rejects with a RateLimiterRes when over the limit, with an Error when the store failed.
      if (rejection instanceof RateLimiterRes) return { refused: true, msBeforeNext: rejection.msBeforeNext };
      throw rejection;
    }
  }

  /** Gives an event back: it was refused by another limit, or it turned out not to count (a right password). */
  async giveBack(key: string): Promise<void> {
    await this.#limiter.reward(key, 1);
  }
}

/**
 * One event counted under every (limit, key) pair, or under none: when one of them is over its
 * limit the others get theirs back (a client over its limit uses up no allowance of the mailbox it
 * names). Returns 0 when admitted, else the seconds until the busiest refusing key has room (≥ 1).
 */
export async function takeAll(pairs: readonly { readonly limit: RateLimit; readonly key: string }[]): Promise<number> {
  const answers = await Promise.all(pairs.map(({ limit, key }) => limit.consume(key)));
  const refused = answers.filter((a) => a.refused);
  if (refused.length === 0) return 0;
  await Promise.all(pairs.map(({ limit, key }) => limit.giveBack(key)));
  return Math.max(1, Math.ceil(Math.max(...refused.map((a) => a.msBeforeNext)) / 1000));
}
