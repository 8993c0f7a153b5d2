import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { UserEmailVerificationRequested, UserRegistered, UserRegistrationAttempted } from '../events.ts';
import { loginKey } from '@paymesh/platform/login-key';
import { hashPassword } from '../passwords/password-hash.ts';
import { usersErrors } from '../errors.ts';
import { issueToken, linksToMailboxSince } from '../tokens/user-tokens.ts';
import type { UserRow } from './user.ts';
import type { Registration } from './validate-registration.ts';

export interface NewAccount {
  readonly role: 'user' | 'admin';
  /** The operator's own address (the bootstrap admin) needs no link. */
  readonly emailVerified: boolean;
}

/** Creates an account and announces it; a username or email whose login key is taken is a 409. */
export async function createUser(db: Db, registration: Registration, account: NewAccount = { role: 'user', emailVerified: false }, inTx?: (tx: Db, user: UserRow) => Promise<void>): Promise<UserRow> {
  const passwordHash = await hashPassword(registration.password);
  try {
    return await db.transaction(async (tx) => {
      const [user] = await queryRows<UserRow>(tx, sql`
        insert into users (username, username_key, email, email_key, password_hash, role, email_verified_at)
        values (${registration.username}, ${loginKey(registration.username)}, ${registration.email}, ${loginKey(registration.email)}, ${passwordHash}, ${account.role}, ${account.emailVerified ? sql`now()` : null})
        returning *`);
      // Ids only: events outlive a deletion (outbox, stream), personal data must not.
      await enqueue(tx, UserRegistered, { user_id: Number(user!.id), role: account.role });
      await inTx?.(tx, user!);
      return user!;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw usersErrors.identityTaken();
    throw error;
  }
}

export interface RegistrationContext {
  readonly db: Db;
  readonly publicUrl: string;
  readonly verifyEmailTtlSec: number;
  /** Verification links one mailbox may be sent per hour, over every account. */
  readonly verificationEmailsPerMailboxPerHour: number;
}

/**
 * Self-service registration. A taken username is a 409 (the person must pick another). A taken
 * email address is not revealed: the answer is the same as for a new account, and the address's
 * owner is told by email that someone tried (OWASP's advice against account enumeration).
 * Returns the new account, or undefined when the address was taken.
 */
export async function register(ctx: RegistrationContext, registration: Registration): Promise<UserRow | undefined> {
  try {
    return await createUser(ctx.db, registration, { role: 'user', emailVerified: false }, async (tx, user) => {
      await requestEmailVerification(tx, ctx, user.id, registration.email);
    });
  } catch (error) {
    if ((error as { code?: string }).code !== usersErrors.identityTaken().code) throw error;
    const [byUsername] = await queryRows(ctx.db, sql`select 1 from users where username_key = ${loginKey(registration.username)}`);
    if (byUsername !== undefined) throw error;
    const [owner] = await queryRows<{ id: string; status: string }>(ctx.db, sql`select id, status from users where email_key = ${loginKey(registration.email)}`);
    // Gone in between (deleted): nothing to tell anyone; the same answer all the same.
    if (owner !== undefined && owner.status === 'active') {
      await ctx.db.transaction(async (tx) => {
        // One notice an hour at most: registering someone's address again and again must not
        // become a way to flood their mailbox.
        const [due] = await queryRows(tx, sql`update users set registration_notice_at = now()
          where id = ${owner.id} and (registration_notice_at is null or registration_notice_at < now() - interval '1 hour') returning id`);
        if (due !== undefined) await enqueue(tx, UserRegistrationAttempted, { user_id: Number(owner.id), action_url: `${ctx.publicUrl}/users/password-reset` });
      });
    }
    return undefined;
  }
}

/**
 * Issues a verification link for `email` (the account's address, or a new one waiting to replace
 * it) and asks notifications to send it to that address and no other: the event names it, so the
 * link cannot reach a mailbox it was not made for, whatever the account's addresses are by the
 * time it is sent. Earlier links of the account stop working. Nothing is sent (false) when the
 * mailbox had its hourly share of verification links already.
 */
export async function requestEmailVerification(tx: Db, ctx: Pick<RegistrationContext, 'publicUrl' | 'verifyEmailTtlSec' | 'verificationEmailsPerMailboxPerHour'>, userId: string, email: string): Promise<boolean> {
  if ((await linksToMailboxSince(tx, email, 'verify_email', 3600)) >= ctx.verificationEmailsPerMailboxPerHour) return false;
  const { token, expiresAt } = await issueToken(tx, userId, 'verify_email', ctx.verifyEmailTtlSec, email);
  await enqueue(tx, UserEmailVerificationRequested, {
    user_id: Number(userId),
    email,
    action_url: `${ctx.publicUrl}/users/verify-email?token=${token}`,
    expires_at: expiresAt.toISOString(),
  });
  return true;
}

export function isUniqueViolation(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error || (typeof e === 'object' && e !== null); e = (e as { cause?: unknown }).cause) {
    if ((e as { code?: string }).code === '23505') return true;
    if ((e as { cause?: unknown }).cause === undefined) break;
  }
  return false;
}
