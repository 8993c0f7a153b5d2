// An admin changes another account's role, status or display name. A disabled user can no longer
// log in, pay or use a live token: the events say so to auth and payments.
import { localUserId, type Caller } from '@paymesh/platform/auth/caller';
import { sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { findUserById, stillAdmin, type UserRow } from '../accounts/user.ts';
import { usersErrors } from '../errors.ts';
import { UserDisabled, UserEnabled, UserUpdated } from '../events.ts';

export interface AdminChanges {
  readonly role: 'user' | 'admin' | undefined;
  readonly status: 'active' | 'disabled' | undefined;
  readonly displayName: string | null | undefined;
}

/**
 * Applies the changes and announces them; `refuseNonAdmin` is the error when the caller turns out
 * to be no admin any more. Returns the account as it now is.
 */
export async function administerUser(db: Db, caller: Caller, id: string, changes: AdminChanges, refuseNonAdmin: () => Error): Promise<UserRow> {
  const { role: newRole, status, displayName } = changes;
  return db.transaction(async (tx) => {
    // The acting admin's row and the target's, locked in id order (no deadlock): two admins
    // demoting or disabling each other at once are serialised, and the second is no longer an
    // admin by the time its turn comes.
    await tx.execute(sql`select id from users where id in (${localUserId(caller)}, ${id}) order by id for update`);
    if (!(await stillAdmin(tx, caller))) throw refuseNonAdmin();
    const current = await findUserById(tx, id);
    if (current === undefined || current.status === 'deleted') throw usersErrors.userNotFound();
    const changed: string[] = [];
    if (newRole !== undefined && newRole !== current.role) {
      await tx.execute(sql`update users set role = ${newRole}, updated_at = now() where id = ${id}`);
      changed.push('role');
    }
    if (displayName !== undefined && displayName !== current.display_name) {
      await tx.execute(sql`update users set display_name = ${displayName}, updated_at = now() where id = ${id}`);
      changed.push('display_name');
    }
    if (changed.length > 0) await enqueue(tx, UserUpdated, { user_id: Number(id), changes: changed, role: newRole ?? current.role });
    if (status !== undefined && status !== current.status) {
      await tx.execute(sql`update users set status = ${status}, updated_at = now() where id = ${id}`);
      await enqueue(tx, status === 'disabled' ? UserDisabled : UserEnabled, { user_id: Number(id) });
    }
    return (await findUserById(tx, id))!;
  });
}
