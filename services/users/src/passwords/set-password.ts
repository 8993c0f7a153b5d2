// A new password for an account (its owner changed it, or a reset link set it), and what comes
// with it: links still in a mailbox stop working, and auth hears of it (it then revokes every
// session and token of the user).
import { sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { hashPassword } from './password-hash.ts';
import { UserPasswordChanged } from '../events.ts';

/** Sets a new password and announces it; call it in a transaction. */
export async function setPassword(tx: Db, userId: string, newPassword: string, options: { confirmEmail: boolean }): Promise<void> {
  const hash = await hashPassword(newPassword);
  await tx.execute(sql`update users set password_hash = ${hash}, updated_at = now(),
    email_verified_at = ${options.confirmEmail ? sql`coalesce(email_verified_at, now())` : sql`email_verified_at`} where id = ${userId}`);
  // Any other reset link still in a mailbox stops working, and so does an email change waiting for
  // its link: a new password is how an owner takes the account back, and must also take back
  // whatever address someone with the old one asked to move it to.
  await tx.execute(sql`update user_tokens set used_at = now() where user_id = ${userId} and purpose = 'password_reset' and used_at is null`);
  await tx.execute(sql`update user_tokens set used_at = now() where user_id = ${userId} and purpose = 'verify_email' and used_at is null
    and email is distinct from (select email from users where id = ${userId})`);
  await tx.execute(sql`update users set pending_email = null where id = ${userId}`);
  await enqueue(tx, UserPasswordChanged, { user_id: Number(userId) });
}
