// Using a reset link: the token is used in the same transaction as the new password is set, so a
// password the rules refuse leaves the link usable.
import type { Db } from '@paymesh/platform/db/open-database';
import { loginKey } from '@paymesh/platform/login-key';
import { findUserById } from '../accounts/user.ts';
import { setPassword } from '../passwords/set-password.ts';
import { usersErrors } from '../errors.ts';
import { checkNewPassword } from '../passwords/check-password.ts';
import { useToken } from '../tokens/user-tokens.ts';

/** Sets the password the link's owner chose and confirms their address (the link proved the mailbox). */
export async function confirmPasswordReset(db: Db, token: string, newPassword: string): Promise<void> {
  await db.transaction(async (tx) => {
    const used = await useToken(tx, token, 'password_reset');
    if (used === undefined) throw usersErrors.tokenInvalid();
    const user = await findUserById(tx, used.user_id, { forUpdate: true });
    // A disabled account is not asked for a link (see reset-request-job.ts), nor may one sent
    // before it was disabled set its password: the admin may have disabled it because the mailbox was taken.
    if (user === undefined || user.status !== 'active') throw usersErrors.tokenInvalid();
    // The link speaks for the mailbox it was sent to, and only while that is the account's.
    if (used.email === null || user.email === null || loginKey(used.email) !== loginKey(user.email)) throw usersErrors.tokenInvalid();
    checkNewPassword(newPassword, { username: user.username, email: user.email, displayName: user.display_name, param: 'new_password' });
    await setPassword(tx, user.id, newPassword, { confirmEmail: true });
  });
}
