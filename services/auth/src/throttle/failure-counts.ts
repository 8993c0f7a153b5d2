// Counts of failed attempts that lock what they count (table login_failures), shared by every
// replica: an attempt is counted before its credentials are checked, so guesses sent in parallel
// cannot outrun the count; the attempt after a key's limit within the window locks that key for
// the lockout period. Used by the password logins (login-throttle.ts) and by client
// authentication (client-auth-throttle.ts). Why these keys and not others: ADR 9.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';

export interface CountedKey {
  readonly key: string;
  /** Failures allowed within the window; the attempt after them locks the key. */
  readonly limit: number;
}

export interface FailureWindow {
  readonly windowSec: number;
  readonly lockoutSec: number;
}

export type Admission =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSec: number; /** Keys this attempt locked (none when they were locked already). */ readonly locked: readonly string[] };

interface CountRow {
  key: string;
  failures: number;
  window_started_at: Date | string;
  locked_until: Date | string | null;
}

/** The end of the latest lock among `keys`, when one of them is locked now. Reads, writes nothing. */
export async function lockedUntil(db: Db, keys: readonly string[], now: Date): Promise<Date | undefined> {
  const [row] = await queryRows<{ locked_until: Date | string | null }>(db,
    sql`select max(locked_until) as locked_until from login_failures where key in ${sql`(${sql.join(keys.map((key) => sql`${key}`), sql`, `)})`} and locked_until > ${now.toISOString()}::timestamptz`);
  return row?.locked_until == null ? undefined : toDate(row.locked_until);
}

/**
 * In `tx`: counts one more failure for every key, or refuses (and counts nowhere) when one of them
 * is locked or this attempt uses up its limit, which locks it. The rows are locked in key order, so
 * concurrent attempts queue here without deadlocking and none is lost.
 */
export async function countAttempt(tx: Db, counted: readonly CountedKey[], window: FailureWindow, now: Date): Promise<Admission> {
  const sorted = [...counted].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const at = now.toISOString();
  // Insert-or-lock in one statement (the no-op update takes the row lock and returns the newest
  // committed counts).
  const rows = await queryRows<CountRow>(tx, sql`
    insert into login_failures as f (key, failures, window_started_at)
    values ${sql.join(sorted.map(({ key }) => sql`(${key}, 0, ${at}::timestamptz)`), sql`, `)}
    on conflict (key) do update set key = f.key
    returning f.key, f.failures, f.window_started_at, f.locked_until`);
  const lockedAlready = rows.map((row) => (row.locked_until === null ? undefined : toDate(row.locked_until))).filter((until): until is Date => until !== undefined && until > now);
  if (lockedAlready.length > 0) return refusal(new Date(Math.max(...lockedAlready.map(Number))), now, []);

  const next = rows.map((row) => {
    // A count restarts once its window is over or its lockout has ended.
    const restart = row.locked_until !== null || toDate(row.window_started_at).getTime() + window.windowSec * 1000 <= now.getTime();
    return {
      key: row.key,
      failures: restart ? 1 : Number(row.failures) + 1,
      windowStartedAt: restart ? now : toDate(row.window_started_at),
      limit: sorted.find(({ key }) => key === row.key)!.limit,
    };
  });
  const exhausted = next.filter((count) => count.failures > count.limit).map(({ key }) => key);
  if (exhausted.length > 0) {
    const until = new Date(now.getTime() + window.lockoutSec * 1000);
    await tx.execute(sql`update login_failures set locked_until = ${until.toISOString()}::timestamptz where key in ${sql`(${sql.join(exhausted.map((key) => sql`${key}`), sql`, `)})`}`);
    return refusal(until, now, exhausted);
  }
  for (const count of next) {
    await tx.execute(sql`update login_failures set failures = ${count.failures}, window_started_at = ${count.windowStartedAt.toISOString()}::timestamptz, locked_until = null where key = ${count.key}`);
  }
  return { allowed: true };
}

/** An attempt that turned out not to be a failure (or could not be checked): it counts no more. */
export async function giveBack(db: Db, key: string): Promise<void> {
  await db.execute(sql`update login_failures set failures = failures - 1 where key = ${key} and failures > 0 and locked_until is null`);
}

/** Forgets a key's count (a success from that source). */
export async function clearCount(db: Db, key: string): Promise<void> {
  await db.execute(sql`delete from login_failures where key = ${key}`);
}

/** Forgets counts whose window and lockout are both over. */
export async function deleteExpiredCounts(db: Db, window: FailureWindow, now: Date): Promise<void> {
  const windowStart = new Date(now.getTime() - window.windowSec * 1000);
  await db.execute(sql`delete from login_failures
    where window_started_at <= ${windowStart.toISOString()}::timestamptz and (locked_until is null or locked_until <= ${now.toISOString()}::timestamptz)`);
}

export function refusal(until: Date, now: Date, locked: readonly string[]): Admission & { allowed: false } {
  return { allowed: false, retryAfterSec: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)), locked };
}

export function toDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}
