// A signed-in user changes their password, giving the current one. Every token of the user, the
// one used here included, is refused from then on (auth follows user.password_changed).
import type { Db } from '@paymesh/platform/db/open-database';
import { setPassword } from '../passwords/set-password.ts';
import { checkNewPassword } from '../passwords/check-password.ts';
import type { CurrentPasswordCheck } from './current-password-check.ts';
import { activeAccount, findUserById } from './user.ts';

export async function changeOwnPassword(db: Db, passwords: CurrentPasswordCheck, userId: string, currentPassword: string, newPassword: string): Promise<void> {
  await db.transaction(async (tx) => {
    const user = activeAccount(await findUserById(tx, userId, { forUpdate: true }));
    await passwords.check(user.password_hash, currentPassword);
    checkNewPassword(newPassword, { username: user.username, email: user.email, displayName: user.display_name, param: 'new_password' });
    await setPassword(tx, userId, newPassword, { confirmEmail: false });
  });
}
