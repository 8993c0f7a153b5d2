// Single-use, expiring tokens sent by email (verify an address, reset a password). The link carries
// 32 random bytes; the database keeps only their SHA-256, so reading the table gives no usable link.
import { createHash, randomBytes } from 'node:crypto';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { mailboxKey } from './mailbox-key.ts';

export type TokenPurpose = 'verify_email' | 'password_reset';

export interface UsedToken {
  readonly user_id: string;
  readonly email: string | null;
}

const hashOf = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * A new token for the address it is mailed to (and only valid while that address is still the
 * account's, or, for a verification, the one waiting to replace it); earlier unused tokens of the
 * same purpose stop working (only the latest link counts).
 */
export async function issueToken(tx: Db, userId: string, purpose: TokenPurpose, ttlSec: number, email: string): Promise<{ token: string; expiresAt: Date }> {
  await voidLinks(tx, userId, [purpose]);
  const token = randomBytes(32).toString('base64url');
  const [row] = await queryRows<{ expires_at: string | Date }>(tx, sql`
    insert into user_tokens (token_hash, user_id, purpose, email, mailbox, expires_at)
    values (${hashOf(token)}, ${userId}, ${purpose}, ${email}, ${mailboxKey(email)}, now() + ${`${ttlSec} seconds`}::interval)
    returning expires_at`);
  return { token, expiresAt: new Date(row!.expires_at) };
}

/** Uses a token once: the update that marks it used is the check, so two uses at once cannot both win. */
export async function useToken(tx: Db, token: string, purpose: TokenPurpose): Promise<UsedToken | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const [row] = await queryRows<UsedToken>(tx, sql`
    update user_tokens set used_at = now()
    where token_hash = ${hashOf(token)} and purpose = ${purpose} and used_at is null and expires_at > now()
    returning user_id, email`);
  return row;
}

/** Every unused link of the account (of these purposes) stops working: the address it went to no longer speaks for it. */
export async function voidLinks(tx: Db, userId: string, purposes: readonly TokenPurpose[] = ['verify_email', 'password_reset']): Promise<void> {
  for (const purpose of purposes) {
    await tx.execute(sql`update user_tokens set used_at = now() where user_id = ${userId} and purpose = ${purpose} and used_at is null`);
  }
}

/** Links of this purpose sent to `email`'s mailbox recently, by every account (plus-addressing makes many addresses one inbox). */
export async function linksToMailboxSince(db: Db, email: string, purpose: TokenPurpose, sinceSec: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`
    select count(*)::int as n from user_tokens where mailbox = ${mailboxKey(email)} and purpose = ${purpose} and created_at > now() - ${`${sinceSec} seconds`}::interval`);
  return row!.n;
}

/** Recent tokens of this purpose, to throttle how many emails one account can be sent. */
export async function tokensIssuedSince(db: Db, userId: string, purpose: TokenPurpose, sinceSec: number): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`
    select count(*)::int as n from user_tokens where user_id = ${userId} and purpose = ${purpose} and created_at > now() - ${`${sinceSec} seconds`}::interval`);
  return row!.n;
}
