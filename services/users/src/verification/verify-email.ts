// Following a verification link: a token confirms the address it was sent to, the account's own or
// a new one waiting in pending_email, which then replaces it.
import { sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { loginKey } from '@paymesh/platform/login-key';
import { isUniqueViolation } from '../accounts/create-user.ts';
import { findUserById } from '../accounts/user.ts';
import { usersErrors } from '../errors.ts';
import { useToken } from '../tokens/user-tokens.ts';
import { UserUpdated } from '../events.ts';

/** Confirms the address the token was sent to; a used, expired or outdated token is 400, an address taken meanwhile 409. */
export async function verifyEmail(db: Db, token: string): Promise<{ userId: string; email: string }> {
  try {
    return await db.transaction(async (tx) => {
      const used = await useToken(tx, token, 'verify_email');
      if (used === undefined || used.email === null) throw usersErrors.tokenInvalid();
      const user = await findUserById(tx, used.user_id, { forUpdate: true });
      // A disabled account's links wait (or die) with it: confirming an address is an account change.
      if (user === undefined || user.status !== 'active') throw usersErrors.tokenInvalid();
      const sameAddress = (a: string | null) => a !== null && a.toLowerCase() === used.email!.toLowerCase();
      if (sameAddress(user.pending_email)) {
        await tx.execute(sql`update users set email = pending_email, email_key = ${loginKey(user.pending_email!)}, pending_email = null, email_verified_at = now(), updated_at = now() where id = ${user.id}`);
        // Reset links went to the address given up: its mailbox no longer speaks for the account.
        await tx.execute(sql`update user_tokens set used_at = now() where user_id = ${user.id} and purpose = 'password_reset' and used_at is null`);
        await enqueue(tx, UserUpdated, { user_id: Number(user.id), changes: ['email', 'email_verified'] });
      } else if (sameAddress(user.email)) {
        await tx.execute(sql`update users set email_verified_at = coalesce(email_verified_at, now()), updated_at = now() where id = ${user.id}`);
        if (user.email_verified_at === null) await enqueue(tx, UserUpdated, { user_id: Number(user.id), changes: ['email_verified'] });
      } else {
        // The account's address changed since this link was sent: it confirms nothing any more.
        throw usersErrors.tokenInvalid();
      }
      return { userId: user.id, email: used.email! };
    });
  } catch (error) {
    // The new address was taken by another account meanwhile (the unique index decides).
    if (isUniqueViolation(error)) throw usersErrors.emailTaken();
    throw error;
  }
}
