// What a running request holds (its Idempotency-Key claim, its processor attempts) it holds under a
// short lease, renewed while the request runs. A process killed mid-request stops renewing, so its
// claims lapse within one lease and a retry is served within seconds; a live request, however slow,
// keeps its lease and is never taken over. Times are the database's, so replicas agree on them.
import { randomUUID } from 'node:crypto';
import { sql, type Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';

/** `now() + lease` in SQL. */
export function leaseEnd(leaseMs: number) {
  return sql`now() + make_interval(secs => ${leaseMs / 1000})`;
}

export interface IdempotencyClaimRef {
  readonly scope: string;
  readonly key: string;
}

/** One request's lease. */
export interface RequestLease {
  /** Identifies the request: the claim's token and the holder of its processor attempts. */
  readonly token: string;
  readonly claim: IdempotencyClaimRef | undefined;
  readonly leaseMs: number;
  /** When the keeper started holding it (ms, this process's clock). */
  readonly since: number;
}

/**
 * Renews the leases of every request this replica runs, in one statement per tick however many
 * requests run, so that renewing costs next to nothing under load. A tick comes three times per
 * lease and renews the leases at least a tick old (younger ones need no renewal yet): one late
 * tick does not let a live request lapse.
 */
export class LeaseKeeper {
  readonly leaseMs: number;
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #held = new Set<RequestLease>();
  readonly #timer: NodeJS.Timeout;
  #renewing = false;

  constructor(db: Db, leaseMs: number, logger: Logger) {
    this.#db = db;
    this.leaseMs = leaseMs;
    this.#logger = logger;
    this.#timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.#timer.unref();
  }

  /** Starts keeping a request's lease (`claim` with the token it was claimed with, when it has a key). */
  hold(claim?: { readonly scope: string; readonly key: string; readonly token: string }): RequestLease {
    const lease: RequestLease = {
      token: claim?.token ?? randomUUID(),
      claim: claim === undefined ? undefined : { scope: claim.scope, key: claim.key },
      leaseMs: this.leaseMs,
      since: Date.now(),
    };
    this.#held.add(lease);
    return lease;
  }

  /** Stops renewing it: the request ended, and whatever it still holds lapses within one lease. */
  release(lease: RequestLease): void {
    this.#held.delete(lease);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async renew(): Promise<void> {
    const due = [...this.#held].filter((lease) => Date.now() - lease.since >= this.leaseMs / 3);
    if (due.length === 0 || this.#renewing) return;
    this.#renewing = true;
    try {
      const claims = due.filter((lease) => lease.claim !== undefined);
      const claimed = claims.length === 0 ? sql`false` : sql`(scope, key, claim_token) in (${sql.join(claims.map((l) => sql`(${l.claim!.scope}, ${l.claim!.key}, ${l.token})`), sql`, `)})`;
      // A lease that has lapsed is never renewed: once lapsed, a retry or the reconciler may act on
      // what it held, and "lapsed" must stay true for them. (The claim token alone keeps the outcome
      // single; this keeps their decision stable.)
      // Data-modifying CTEs run whether or not the query reads them: one round trip for both tables.
      // Rows another transaction holds (the request's own recording, a retry taking over) are
      // skipped, not waited for: a renewal never blocks a request (nor the pool behind it), and a
      // skipped lease is renewed at the next tick, three of which come per lease.
      await this.#db.execute(sql`
        with claims as (
          update idempotency_keys set lease_expires_at = ${leaseEnd(this.leaseMs)}
          where (scope, key) in (select scope, key from idempotency_keys where ${claimed} and state = 'in_flight' and lease_expires_at > now() for update skip locked)),
        attempts as (
          update processor_attempts set lease_expires_at = ${leaseEnd(this.leaseMs)}
          where id in (select id from processor_attempts
            where holder in (${sql.join(due.map((l) => sql`${l.token}`), sql`, `)}) and state = 'started' and lease_expires_at > now() for update skip locked))
        select 1`);
    } catch (error) {
      // The database may be restarting: the next tick tries again, and leases lapse meanwhile if they must.
      this.#logger.warn({ err: error }, 'renewing request leases failed');
    } finally {
      this.#renewing = false;
    }
  }
}
