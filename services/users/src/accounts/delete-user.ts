import { queryRows, sql } from '@paymesh/platform/db/open-database';
import type { Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { UserDeleted } from '../events.ts';
import { usersErrors } from '../errors.ts';
import { findUserById } from './user.ts';

/**
 * Erases a user's personal data and keeps the row as a tombstone (ids are never reused).
 * `user.deleted` tells auth to revoke their tokens and the other services to stop serving them.
 */
export async function deleteUser(db: Db, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    // The platform keeps an admin. Every deletion first locks the active admins, in id order, then
    // the account: two admins deleting each other at once wait for one another (no deadlock) and
    // the second sees that it would delete the last one. Deletions are rare; this costs one read.
    const admins = await queryRows<{ id: string }>(tx, sql`select id from users where role = 'admin' and status = 'active' order by id for update`);
    const user = await findUserById(tx, id, { forUpdate: true });
    if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
    if (admins.length === 1 && admins[0]!.id === String(user.id)) throw usersErrors.lastAdmin();
    await tx.execute(sql`update users set username = null, username_key = null, email = null, email_key = null, password_hash = null, display_name = null,
      pending_email = null, email_verified_at = null, status = 'deleted', deleted_at = now(), updated_at = now() where id = ${id}`);
    // Links still in a mailbox (and the address a verification link was for) go too.
    await tx.execute(sql`delete from user_tokens where user_id = ${id}`);
    await enqueue(tx, UserDeleted, { user_id: Number(id) });
  });
}
