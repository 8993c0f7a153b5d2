// Password guessing at the password logins (POST /auth/login and the login page), against a
// lockout an attacker cannot aim at someone else (docs/adr/0009-unaimable-lockouts.md):
// - one account from one source (a client address, or a device the account signed in from before)
//   is locked after a few failures: the guesser's own source, not the owner's;
// - one address is locked after many failures over every account (password spraying);
// - one account, from sources it does not know, is slowed down with growing delays between
//   checked guesses however many addresses they come from: never a lock, and the sources the
//   account signed in from before are not held back by it.
// Every count lives in auth's database, so every replica sees the same. What it protects against
// and the tests that prove it: docs/security.md.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { ConfigOf } from '@paymesh/platform/config';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import { loginKey } from '@paymesh/platform/login-key';
import type { authConfigSpec } from '../config.ts';
import { clearCount, countAttempt, deleteExpiredCounts, giveBack, lockedUntil, refusal, toDate, type FailureWindow } from './failure-counts.ts';
import { DeviceCookie } from './device-cookie.ts';
import type { ThrottleMetrics } from './throttle-metrics.ts';

export interface LoginThrottleLimits extends FailureWindow {
  /** Failures of one account from one source before that pair is locked. */
  readonly maxFailuresPerAccountAndSource: number;
  readonly maxFailuresPerIp: number;
  /** Failures of one account from unknown sources before the delays begin. */
  readonly accountFreeFailures: number;
  /** The delay once the free failures are used up; it doubles with each further failure. */
  readonly accountFirstDelaySec: number;
  /** The longest delay between two checked guesses at one account (they double up to it). */
  readonly accountMaxDelaySec: number;
  /** How long a source the account signed in from stays known. */
  readonly knownSourceTtlSec: number;
}

/** Where an attempt comes from. */
export interface LoginSource {
  readonly ip: string;
  /** The id in the request's device cookie, when it carried a valid one (device-cookie.ts). */
  readonly device: string | undefined;
}

export type AttemptOutcome<T> =
  | { readonly status: 'refused'; readonly retryAfterSec: number }
  | { readonly status: 'failed' }
  /** `device`: the id the device cookie should carry from now on (the one sent, or a new one). */
  | { readonly status: 'succeeded'; readonly value: T; readonly device: string };

/** The limits from auth's configuration keys (LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS …). */
export function loginThrottleLimits(config: Pick<ConfigOf<typeof authConfigSpec>, 'loginMaxFailuresPerAccountAndAddress' | 'loginMaxFailuresPerIp' | 'loginFailureWindowSec' | 'loginLockoutSec' | 'loginAccountFreeFailures' | 'loginAccountFirstDelaySec' | 'loginAccountMaxDelaySec' | 'loginKnownDeviceDays'>): LoginThrottleLimits {
  return {
    maxFailuresPerAccountAndSource: config.loginMaxFailuresPerAccountAndAddress,
    maxFailuresPerIp: config.loginMaxFailuresPerIp,
    windowSec: config.loginFailureWindowSec,
    lockoutSec: config.loginLockoutSec,
    accountFreeFailures: config.loginAccountFreeFailures,
    accountFirstDelaySec: config.loginAccountFirstDelaySec,
    accountMaxDelaySec: config.loginAccountMaxDelaySec,
    knownSourceTtlSec: config.loginKnownDeviceDays * 24 * 60 * 60,
  };
}

/** The keys of one attempt, kept from its admission to its outcome. */
interface Ticket {
  readonly pair: string;
  /** The address's count; none for a device the account knows (the address-wide lock is not its). */
  readonly address: string | undefined;
  /** The account's login_delays key, when the source is not known (known ones skip the slowdown). */
  readonly delay: string | undefined;
  /** login_known_sources keys this source would have, if it signs in. */
  readonly knownAddress: string;
  readonly knownDevice: string | undefined;
}

export class LoginThrottle {
  readonly #db: Db;
  readonly #limits: LoginThrottleLimits;
  readonly #now: () => Date;
  readonly #logger: Logger | undefined;
  readonly #metrics: ThrottleMetrics | undefined;

  constructor(db: Db, limits: LoginThrottleLimits, options: { now?: () => Date; logger?: Logger; metrics?: ThrottleMetrics } = {}) {
    this.#db = db;
    this.#limits = limits;
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger;
    this.#metrics = options.metrics;
  }

  /**
   * Runs `check` (which answers undefined for wrong credentials) unless the attempt is refused,
   * and records its outcome. A check that throws (users unreachable) counts for nobody.
   * `onNewSource` runs, in the transaction that records the sign-in, when it succeeds from a device
   * and an address the account does not know although it signed in before (within
   * LOGIN_KNOWN_DEVICE_DAYS): a first sign-in has nothing to compare with and is no news.
   */
  async attempt<T>(login: string, source: LoginSource, check: () => Promise<T | undefined>, onNewSource?: (tx: Db, value: T) => Promise<void>): Promise<AttemptOutcome<T>> {
    const admission = await this.#begin(login, source);
    if ('retryAfterSec' in admission) {
      this.#metrics?.loginAttempts.inc({ outcome: 'throttled' });
      return { status: 'refused', retryAfterSec: admission.retryAfterSec };
    }
    let value: T | undefined;
    try {
      value = await check();
    } catch (error) {
      await this.#release(admission);
      throw error;
    }
    if (value === undefined) {
      this.#metrics?.loginAttempts.inc({ outcome: 'failed' });
      return { status: 'failed' };
    }
    const device = source.device ?? DeviceCookie.newId();
    await this.#recordSuccess(admission, knownSourceKey(accountKey(login), 'device', device));
    await this.#recordSignIn(accountKey(login), admission.delay !== undefined, onNewSource === undefined ? undefined : (tx) => onNewSource(tx, value));
    this.#metrics?.loginAttempts.inc({ outcome: 'succeeded' });
    return { status: 'succeeded', value, device };
  }

  /**
   * Counts the attempt as failed before its credentials are checked, so that guesses sent in
   * parallel cannot outrun the counts. A refused attempt counts nowhere (a locked address cannot
   * lock or slow down accounts).
   */
  async #begin(login: string, source: LoginSource): Promise<Ticket | { retryAfterSec: number }> {
    const now = this.#now();
    const account = accountKey(login);
    const address = ipKey(source.ip);
    const knownAddress = knownSourceKey(account, 'address', address);
    const knownDevice = source.device === undefined ? undefined : knownSourceKey(account, 'device', source.device);
    const known = await this.#known([knownAddress, knownDevice], now);
    // A known device is its own source: whoever shares its address cannot lock it, neither for
    // this account (its own pair) nor address-wide (a sprayer behind the same NAT, or one who
    // claims the address). Its own failures still lock the device's pair after a few.
    const knownDeviceUsed = knownDevice !== undefined && known.has(knownDevice);
    const pair = pairKey(account, knownDeviceUsed ? knownDevice : knownAddress);
    const ticket: Ticket = { pair, address: knownDeviceUsed ? undefined : address, delay: known.size > 0 ? undefined : account, knownAddress, knownDevice };
    const counted = ticket.address === undefined ? [pair] : [pair, ticket.address];

    const locked = await lockedUntil(this.#db, counted, now);
    if (locked !== undefined) return refusal(locked, now, []);

    return this.#db.transaction(async (tx) => {
      // The account's row first, then the counts (countAttempt locks them in key order): every
      // attempt takes its locks in the same order.
      const delay = ticket.delay === undefined ? undefined : await this.#lockDelay(tx, ticket.delay, now);
      // Before the free failures are used up nothing waits, whatever the clocks say: `now` was read
      // before this attempt queued for the row, and a parallel attempt (or a replica whose clock is
      // a little ahead) may have stamped a later failure meanwhile.
      if (delay !== undefined && this.#delaySec(delay.failures) > 0 && delay.allowedAt > now) return refusal(delay.allowedAt, now, []);
      const admission = await countAttempt(tx, [
        { key: pair, limit: this.#limits.maxFailuresPerAccountAndSource },
        ...(ticket.address === undefined ? [] : [{ key: ticket.address, limit: this.#limits.maxFailuresPerIp }]),
      ], this.#limits, now);
      if (!admission.allowed) {
        if (admission.locked.length > 0) {
          // Hashes only: a password typed into the username field must not reach the logs.
          this.#logger?.warn({ keys: admission.locked, retryAfterSec: admission.retryAfterSec }, 'login locked after too many failures');
          for (const key of admission.locked) this.#metrics?.lockouts.inc({ scope: key === pair ? 'account_source' : 'address' });
        }
        // A source that fails this often is no longer trusted to skip the account's slowdown.
        if (admission.locked.includes(pair)) await tx.execute(sql`delete from login_known_sources where key in (${knownAddress}, ${knownDevice ?? knownAddress})`);
        return admission;
      }
      if (delay !== undefined) {
        const failures = delay.allowedAt.getTime() + this.#quietSec() * 1000 <= now.getTime() ? 1 : delay.failures + 1;
        await tx.execute(sql`update login_delays set failures = ${failures}, last_failure_at = ${now.toISOString()}::timestamptz where key = ${ticket.delay!}`);
        if (failures === this.#limits.accountFreeFailures) this.#logger?.warn({ key: ticket.delay }, 'login failures from unknown sources: the account is slowed down');
      }
      return ticket;
    });
  }

  /** The account's count of failures from unknown sources, row-locked, and when it may be tried again. */
  async #lockDelay(tx: Db, key: string, now: Date): Promise<{ failures: number; allowedAt: Date }> {
    const [row] = await queryRows<{ failures: number; last_failure_at: Date | string }>(tx, sql`
      insert into login_delays as d (key, failures, last_failure_at) values (${key}, 0, ${now.toISOString()}::timestamptz)
      on conflict (key) do update set key = d.key
      returning d.failures, d.last_failure_at`);
    const failures = Number(row!.failures);
    return { failures, allowedAt: new Date(toDate(row!.last_failure_at).getTime() + this.#delaySec(failures) * 1000) };
  }

  /** The delay earned by `failures` failures from unknown sources: none at first, then the first delay doubling up to the maximum. */
  #delaySec(failures: number): number {
    const { accountFreeFailures: free, accountFirstDelaySec: first, accountMaxDelaySec: max } = this.#limits;
    if (failures < free) return 0;
    return Math.min(max, first * 2 ** Math.min(failures - free, 30));
  }

  /**
   * How long an account must go without failures from unknown sources, once its last delay is
   * over, for its count to start again: a window, and never less than its free failures at the
   * longest delay, so that pausing never earns a guesser more than going on at the slowest rate.
   */
  #quietSec(): number {
    return Math.max(this.#limits.windowSec, this.#limits.accountFreeFailures * this.#limits.accountMaxDelaySec);
  }

  async #known(keys: readonly (string | undefined)[], now: Date): Promise<Set<string>> {
    const candidates = keys.filter((key): key is string => key !== undefined);
    const since = new Date(now.getTime() - this.#limits.knownSourceTtlSec * 1000);
    const rows = await queryRows<{ key: string }>(this.#db, sql`select key from login_known_sources
      where key in ${sql`(${sql.join(candidates.map((key) => sql`${key}`), sql`, `)})`} and last_success_at > ${since.toISOString()}::timestamptz`);
    return new Set(rows.map((row) => row.key));
  }

  /**
   * The credentials were right: the pair's count is cleared, the address and the account get their
   * attempt back (an attacker's failures stay), and the address and the device become known.
   */
  async #recordSuccess(ticket: Ticket, knownDevice: string): Promise<void> {
    const now = this.#now().toISOString();
    await clearCount(this.#db, ticket.pair);
    if (ticket.address !== undefined) await giveBack(this.#db, ticket.address);
    if (ticket.delay !== undefined) await this.#db.execute(sql`update login_delays set failures = failures - 1 where key = ${ticket.delay} and failures > 0`);
    await this.#db.execute(sql`insert into login_known_sources (key, last_success_at) values (${ticket.knownAddress}, ${now}::timestamptz), (${knownDevice}, ${now}::timestamptz)
      on conflict (key) do update set last_success_at = excluded.last_success_at`);
  }

  /**
   * Keeps when the account last signed in (login_sign_ins), and calls `announce` when this sign-in
   * came from an unknown source (neither its device nor its address is known) of an account that
   * signed in before, within the known-source window.
   */
  async #recordSignIn(account: string, fromUnknownSource: boolean, announce: ((tx: Db) => Promise<void>) | undefined): Promise<void> {
    const now = this.#now();
    const since = new Date(now.getTime() - this.#limits.knownSourceTtlSec * 1000);
    await this.#db.transaction(async (tx) => {
      const [before] = await queryRows(tx, sql`select 1 as seen from login_sign_ins where account = ${account} and last_success_at > ${since.toISOString()}::timestamptz`);
      await tx.execute(sql`insert into login_sign_ins (account, last_success_at) values (${account}, ${now.toISOString()}::timestamptz)
        on conflict (account) do update set last_success_at = excluded.last_success_at`);
      if (before !== undefined && fromUnknownSource) await announce?.(tx);
    });
  }

  /** The credentials could not be checked (users unavailable): the attempt counts for nobody. */
  async #release(ticket: Ticket): Promise<void> {
    await giveBack(this.#db, ticket.pair);
    if (ticket.address !== undefined) await giveBack(this.#db, ticket.address);
    if (ticket.delay !== undefined) await this.#db.execute(sql`update login_delays set failures = failures - 1 where key = ${ticket.delay} and failures > 0`);
  }

  /** Forgets counts, delays and known sources that can no longer change an answer. */
  async deleteExpired(): Promise<void> {
    const now = this.#now();
    await deleteExpiredCounts(this.#db, this.#limits, now);
    // A delay is over at most accountMaxDelaySec after the last failure, and its count restarts after the quiet time.
    const quietSince = new Date(now.getTime() - (this.#limits.accountMaxDelaySec + this.#quietSec()) * 1000);
    await this.#db.execute(sql`delete from login_delays where last_failure_at <= ${quietSince.toISOString()}::timestamptz`);
    const knownSince = new Date(now.getTime() - this.#limits.knownSourceTtlSec * 1000);
    await this.#db.execute(sql`delete from login_known_sources where last_success_at <= ${knownSince.toISOString()}::timestamptz`);
    await this.#db.execute(sql`delete from login_sign_ins where last_success_at <= ${knownSince.toISOString()}::timestamptz`);
  }
}

/**
 * One account, whatever the spelling of its name: the login key users stores and looks accounts up
 * by, hashed (a password typed into the username field is not kept in clear; a fast hash keeps it
 * out of sight, not safe from guessing), so every key has the same length.
 */
export function accountKey(login: string): string {
  return `account:${sha256(loginKey(login))}`;
}

function pairKey(account: string, source: string): string {
  return `pair:${sha256(`${account}\n${source}`)}`;
}

function knownSourceKey(account: string, kind: 'address' | 'device', source: string): string {
  return `${kind}:${sha256(`${account}\n${source}`)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** An IPv4 address as is (IPv4-mapped IPv6 too); an IPv6 address by its /64, one subscriber's network. */
export function ipKey(ip: string): string {
  const address = ip.split('%')[0]!;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return `ip:${mapped[1]}`;
  // Not an address at all cannot happen behind Fastify; keyed as given all the same.
  if (!isIPv6(address)) return `ip:${address}`;
  const [head = '', tail] = address.split('::');
  const groups = (part: string | undefined) => (part === undefined || part === '' ? [] : part.split(':'));
  // An embedded IPv4 tail (::1.2.3.4) fills two groups.
  const tailGroups = groups(tail).flatMap((group) => (group.includes('.') ? ['0', '0'] : [group]));
  const full = [...groups(head), ...Array<string>(8 - groups(head).length - tailGroups.length).fill('0'), ...tailGroups];
  return `ip:${full.slice(0, 4).map((group) => parseInt(group, 16).toString(16)).join(':')}::/64`;
}
