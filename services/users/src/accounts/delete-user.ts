import { queryRows, sql } from '@paymesh/platform/db/open-database';
import type { Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { isNumericId } from '@paymesh/platform/ids';
import { UserDeleted } from '../events.ts';
import { usersErrors } from '../errors.ts';
import { findUserById } from './user.ts';

/**
 * Erases a user's personal data and keeps the row as a tombstone (ids are never reused).
 * `user.deleted` tells auth to revoke their tokens and the other services to stop serving them.
 */
export async function deleteUser(db: Db, id: string): Promise<void> {
  // The plain form only, as findUserById reads it ('007' and 'abc' are nobody).
  if (!isNumericId(id)) throw usersErrors.userNotFound();
  await db.transaction(async (tx) => {
    // The platform keeps an admin. A deletion locks the active admins and the account in one
    // statement, in id order, as an admin's change locks its caller and target: two admins
    // deleting each other, or a deletion beside an admin's edit, wait for one another instead of
    // deadlocking, and the second deletion sees that it would remove the last admin.
    const locked = await queryRows<{ id: string; admin: boolean }>(tx, sql`select id::text, role = 'admin' and status = 'active' as admin
      from users where (role = 'admin' and status = 'active') or id = ${id} order by id for update`);
    const user = await findUserById(tx, id);
    if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
    const admins = locked.filter((row) => row.admin);
    if (admins.length === 1 && admins[0]!.id === String(user.id)) throw usersErrors.lastAdmin();
    await tx.execute(sql`update users set username = null, username_key = null, email = null, email_key = null, password_hash = null, display_name = null,
      pending_email = null, email_verified_at = null, status = 'deleted', deleted_at = now(), updated_at = now() where id = ${id}`);
    // Links still in a mailbox (and the address a verification link was for) go too.
    await tx.execute(sql`delete from user_tokens where user_id = ${id}`);
    await enqueue(tx, UserDeleted, { user_id: Number(id) });
  });
}
