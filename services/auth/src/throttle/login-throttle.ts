// Brute-force protection of password logins: attempts are counted per login name and per client
// address in auth's own database, so every replica sees the same counts; once either count is used
// up within the window, that name or address is refused (429, Retry-After) for the lockout period.
// What it protects against and the tests that prove it: docs/security.md.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { ConfigOf } from '@paymesh/platform/config';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import type { authConfigSpec } from '../config.ts';

export interface LoginThrottleLimits {
  readonly maxFailuresPerAccount: number;
  readonly maxFailuresPerIp: number;
  readonly windowSec: number;
  readonly lockoutSec: number;
}

export type Admission = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSec: number };

export type AttemptOutcome<T> =
  | { readonly status: 'refused'; readonly retryAfterSec: number }
  | { readonly status: 'failed' }
  | { readonly status: 'succeeded'; readonly value: T };

/** The limits from auth's configuration keys (LOGIN_MAX_FAILURES_PER_ACCOUNT …). */
export function loginThrottleLimits(config: Pick<ConfigOf<typeof authConfigSpec>, 'loginMaxFailuresPerAccount' | 'loginMaxFailuresPerIp' | 'loginFailureWindowSec' | 'loginLockoutSec'>): LoginThrottleLimits {
  return {
    maxFailuresPerAccount: config.loginMaxFailuresPerAccount,
    maxFailuresPerIp: config.loginMaxFailuresPerIp,
    windowSec: config.loginFailureWindowSec,
    lockoutSec: config.loginLockoutSec,
  };
}

interface CountRow {
  key: string;
  failures: number;
  window_started_at: Date | string;
  locked_until: Date | string | null;
}

/**
 * `attempt` wraps a credential check. Its steps, for a caller that cannot use it: `beginAttempt`
 * before checking the credentials (refuse when it says so), then `recordSuccess` when they were
 * right, nothing when they were wrong (the attempt is already counted), `releaseAttempt` when
 * they could not be checked at all.
 */
export class LoginThrottle {
  readonly #db: Db;
  readonly #limits: LoginThrottleLimits;
  readonly #now: () => Date;
  readonly #logger: Logger | undefined;

  constructor(db: Db, limits: LoginThrottleLimits, options: { now?: () => Date; logger?: Logger } = {}) {
    this.#db = db;
    this.#limits = limits;
    this.#now = options.now ?? (() => new Date());
    this.#logger = options.logger;
  }

  /**
   * Runs `check` (which answers undefined for wrong credentials) unless `login` or `ip` is locked,
   * and records its outcome. A check that throws (users unreachable) counts for nobody.
   */
  async attempt<T>(login: string, ip: string, check: () => Promise<T | undefined>): Promise<AttemptOutcome<T>> {
    const admission = await this.beginAttempt(login, ip);
    if (!admission.allowed) return { status: 'refused', retryAfterSec: admission.retryAfterSec };
    let value: T | undefined;
    try {
      value = await check();
    } catch (error) {
      await this.releaseAttempt(login, ip);
      throw error;
    }
    if (value === undefined) return { status: 'failed' };
    await this.recordSuccess(login, ip);
    return { status: 'succeeded', value };
  }

  /**
   * Counts the attempt as failed before its credentials are checked, so that guesses sent in
   * parallel cannot outrun the count: at most the limit of them are ever checked per window. An
   * attempt that is refused counts nowhere (a locked address cannot lock accounts).
   */
  async beginAttempt(login: string, ip: string): Promise<Admission> {
    const now = this.#now();
    // Sorted ('account:' < 'ip:'), so concurrent attempts lock the rows in the same order.
    const keys = [accountKey(login), ipKey(ip)] as const;
    // Locked already: refused without writing anything.
    const [locked] = await queryRows<{ locked_until: Date | string | null }>(this.#db,
      sql`select max(locked_until) as locked_until from login_failures where key in (${keys[0]}, ${keys[1]}) and locked_until > ${now.toISOString()}::timestamptz`);
    const lockedAlready = locked?.locked_until ?? null;
    if (lockedAlready !== null) return refusal(toDate(lockedAlready), now);

    return this.#db.transaction(async (tx) => {
      // Insert-or-lock both rows in one statement (the no-op update takes the row lock and returns
      // the newest committed counts): concurrent attempts on a key queue here, none is lost.
      const rows = await queryRows<CountRow>(tx, sql`
        insert into login_failures as f (key, failures, window_started_at)
        values (${keys[0]}, 0, ${now.toISOString()}::timestamptz), (${keys[1]}, 0, ${now.toISOString()}::timestamptz)
        on conflict (key) do update set key = f.key
        returning f.key, f.failures, f.window_started_at, f.locked_until`);
      const lockedUntil = rows.map((row) => (row.locked_until === null ? undefined : toDate(row.locked_until))).filter((until) => until !== undefined && until > now);
      if (lockedUntil.length > 0) return refusal(new Date(Math.max(...lockedUntil.map(Number))), now);

      const next = rows.map((row) => {
        // A count restarts once its window is over or its lockout has ended.
        const restart = row.locked_until !== null || toDate(row.window_started_at).getTime() + this.#limits.windowSec * 1000 <= now.getTime();
        return {
          key: row.key,
          failures: restart ? 1 : Number(row.failures) + 1,
          windowStartedAt: restart ? now : toDate(row.window_started_at),
          limit: row.key.startsWith('account:') ? this.#limits.maxFailuresPerAccount : this.#limits.maxFailuresPerIp,
        };
      });
      const exhausted = next.filter((count) => count.failures > count.limit);
      if (exhausted.length > 0) {
        const until = new Date(now.getTime() + this.#limits.lockoutSec * 1000);
        for (const { key } of exhausted) {
          await tx.execute(sql`update login_failures set locked_until = ${until.toISOString()}::timestamptz where key = ${key}`);
        }
        this.#logger?.warn({ keys: exhausted.map(({ key }) => key), lockedUntil: until.toISOString() }, 'login locked after too many failures');
        return refusal(until, now);
      }
      for (const count of next) {
        await tx.execute(sql`update login_failures set failures = ${count.failures}, window_started_at = ${count.windowStartedAt.toISOString()}::timestamptz, locked_until = null where key = ${count.key}`);
      }
      return { allowed: true } as const;
    });
  }

  /** The credentials were right: the login name's count is cleared, the address gets its attempt back. */
  async recordSuccess(login: string, ip: string): Promise<void> {
    await this.#db.execute(sql`delete from login_failures where key = ${accountKey(login)}`);
    await this.#giveBack(ipKey(ip));
  }

  /** The credentials could not be checked (users unavailable): the attempt counts for neither key. */
  async releaseAttempt(login: string, ip: string): Promise<void> {
    await this.#giveBack(accountKey(login));
    await this.#giveBack(ipKey(ip));
  }

  /** Forgets counts whose window and lockout are both over. */
  async deleteExpired(): Promise<void> {
    const now = this.#now();
    const windowStart = new Date(now.getTime() - this.#limits.windowSec * 1000);
    await this.#db.execute(sql`delete from login_failures
      where window_started_at <= ${windowStart.toISOString()}::timestamptz and (locked_until is null or locked_until <= ${now.toISOString()}::timestamptz)`);
  }

  async #giveBack(key: string): Promise<void> {
    await this.#db.execute(sql`update login_failures set failures = failures - 1 where key = ${key} and failures > 0 and locked_until is null`);
  }
}

function refusal(lockedUntil: Date, now: Date): Admission {
  return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000)) };
}

function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/**
 * Users log in with their username or email in any case, so the key is the lower-cased login,
 * hashed: a password typed into the username field is not kept in clear (a fast hash keeps it out
 * of sight, not safe from guessing), and every key has the same length.
 */
export function accountKey(login: string): string {
  return `account:${createHash('sha256').update(login.toLowerCase()).digest('hex')}`;
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
