// What a user may change of their own account: the display name, and the email address (which
// takes over only once the link sent to it is followed; until then mail goes to the old one).
import { sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { voidLinks } from '../tokens/user-tokens.ts';
import { sendVerificationLink } from './send-verification-link.ts';
import type { RegistrationContext } from './create-user.ts';
import type { CurrentPasswordCheck } from './current-password-check.ts';
import { activeAccount, findUserById, type UserRow } from './user.ts';
import { UserUpdated } from '../events.ts';

export interface OwnAccountChanges {
  readonly displayName: string | null | undefined;
  /** Normalised; when given, `currentPassword` is too. */
  readonly email: string | undefined;
  readonly currentPassword: string | undefined;
}

/** Applies the changes and announces what changed (user.updated); returns the account as it now is. */
export async function updateOwnAccount(ctx: RegistrationContext, passwords: CurrentPasswordCheck, userId: string, changes: OwnAccountChanges): Promise<UserRow> {
  const { displayName, email } = changes;
  return ctx.db.transaction(async (tx) => {
    const current = activeAccount(await findUserById(tx, userId, { forUpdate: true }));
    if (email !== undefined) await passwords.check(current.password_hash, changes.currentPassword!);
    const changed: string[] = [];
    if (displayName !== undefined && displayName !== current.display_name) {
      await tx.execute(sql`update users set display_name = ${displayName}, updated_at = now() where id = ${userId}`);
      changed.push('display_name');
    }
    if (email !== undefined && email.toLowerCase() !== (current.pending_email ?? current.email ?? '').toLowerCase()) {
      await changeEmail(tx, ctx, current, email);
      changed.push('pending_email');
    }
    if (changed.length > 0) await enqueue(tx, UserUpdated, { user_id: Number(userId), changes: changed });
    return (await findUserById(tx, userId))!;
  });
}

async function changeEmail(tx: Db, ctx: RegistrationContext, current: UserRow, email: string): Promise<void> {
  // Every unused link stops working, whether or not a new one can be sent within the
  // hourly cap: verification links confirmed an address the owner just moved away from,
  // and reset links went to a mailbox that is about to stop speaking for the account.
  await voidLinks(tx, current.id);
  if (email.toLowerCase() === current.email?.toLowerCase()) {
    // Back to the address in use: the change waiting for confirmation is dropped.
    await tx.execute(sql`update users set pending_email = null, updated_at = now() where id = ${current.id}`);
    return;
  }
  // The new address takes over only once its link is followed; until then mail goes to the old one.
  await tx.execute(sql`update users set pending_email = ${email}, updated_at = now() where id = ${current.id}`);
  // Each change mails an address the caller chose: under the same hourly cap as a resend,
  // or alternating two addresses would flood both. Beyond it the change still waits, and
  // POST /users/me/verify-email sends its link once the hour allows.
  await sendVerificationLink(tx, ctx, current.id, email);
}
