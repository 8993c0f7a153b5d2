// Guessing of client secrets at the token, PAR, introspection and revocation endpoints: failures are
// counted per client id from one address (locked after a few: the guesser's own address, never
// the client everywhere, or anyone could cut a service off from its tokens) and per address over
// every client, and each one is logged with the client id and the address, never the secret.
// Why no client-wide limit: ADR 9. The counts share login_failures with the login throttle (other
// keys), whose clean-up forgets them too.
import { createHash } from 'node:crypto';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import { clearCount, countAttempt, giveBack, lockedUntil, refusal, type FailureWindow } from './failure-counts.ts';
import { ipKey } from './login-throttle.ts';
import type { ThrottleMetrics } from './throttle-metrics.ts';

export interface ClientAuthLimits extends FailureWindow {
  /** Failures of one client id from one address before that pair is locked. */
  readonly maxFailuresPerClient: number;
  /** Failures from one address over every client id before that address is locked. */
  readonly maxFailuresPerIp: number;
}

export type ClientAuthEndpoint = 'token' | 'par' | 'introspection' | 'revocation';

/** An admitted attempt, settled once its outcome is known. */
export interface ClientAuthTicket {
  readonly endpoint: ClientAuthEndpoint;
  readonly clientId: string | undefined;
  readonly ip: string;
  readonly keys: readonly string[];
}

export class ClientAuthThrottle {
  readonly #db: Db;
  readonly #limits: ClientAuthLimits;
  readonly #now: () => Date;
  readonly #logger: Logger;
  readonly #metrics: ThrottleMetrics | undefined;

  constructor(db: Db, limits: ClientAuthLimits, options: { logger: Logger; now?: () => Date; metrics?: ThrottleMetrics }) {
    this.#db = db;
    this.#limits = limits;
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger;
    this.#metrics = options.metrics;
  }

  /**
   * Counts the attempt as failed before the client is authenticated (parallel guesses cannot
   * outrun the count), or refuses it when its client id from this address, or the address, is locked.
   */
  async begin(endpoint: ClientAuthEndpoint, clientId: string | undefined, ip: string): Promise<ClientAuthTicket | { retryAfterSec: number }> {
    const now = this.#now();
    const address = `client-${ipKey(ip)}`;
    // The client id as presented (an unknown one is counted all the same, and tells nothing).
    const pair = `client:${createHash('sha256').update(`${clientId ?? ''}\n${ipKey(ip)}`).digest('hex')}`;
    const keys = [pair, address];
    const locked = await lockedUntil(this.#db, keys, now);
    const admission = locked !== undefined
      ? refusal(locked, now, [])
      : await this.#db.transaction((tx) => countAttempt(tx, [{ key: pair, limit: this.#limits.maxFailuresPerClient }, { key: address, limit: this.#limits.maxFailuresPerIp }], this.#limits, now));
    if (!admission.allowed) {
      this.#metrics?.clientAuthFailures.inc({ endpoint, outcome: 'throttled' });
      this.#logger.warn({ endpoint, clientId: loggable(clientId), ip, retryAfterSec: admission.retryAfterSec, lockedNow: admission.locked.length > 0 }, 'client authentication refused: too many failures');
      return { retryAfterSec: admission.retryAfterSec };
    }
    return { endpoint, clientId, ip, keys };
  }

  /**
   * The outcome of an admitted attempt: a success clears the pair's count and gives the address its
   * attempt back; a failure stays counted and is logged; an attempt whose client authentication
   * never ran (a malformed request refused first) counts for nobody.
   */
  async settle(ticket: ClientAuthTicket, outcome: 'succeeded' | 'failed' | 'unchecked'): Promise<void> {
    const [pair, address] = ticket.keys as [string, string];
    if (outcome === 'succeeded') {
      await clearCount(this.#db, pair);
      await giveBack(this.#db, address);
    } else if (outcome === 'unchecked') {
      await giveBack(this.#db, pair);
      await giveBack(this.#db, address);
    } else {
      this.#metrics?.clientAuthFailures.inc({ endpoint: ticket.endpoint, outcome: 'failed' });
      this.#logger.warn({ endpoint: ticket.endpoint, clientId: loggable(ticket.clientId), ip: ticket.ip }, 'client authentication failed');
    }
  }
}

/** A client id fit for a log line: whatever a caller sends, never more than a short line of it. */
function loggable(clientId: string | undefined): string | undefined {
  return clientId === undefined ? undefined : JSON.stringify(clientId).slice(1, -1).slice(0, 100);
}
