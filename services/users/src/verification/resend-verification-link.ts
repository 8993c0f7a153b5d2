// A signed-in user asks for the verification link again, under the same hourly cap as every link.
import type { Db } from '@paymesh/platform/db/open-database';
import type { RegistrationContext } from '../accounts/create-user.ts';
import { sendVerificationLink } from '../accounts/send-verification-link.ts';
import { activeAccount, findUserById } from '../accounts/user.ts';

/** Sends the link to the address waiting for confirmation, or the unconfirmed current one; nothing when there is none. */
export async function resendVerificationLink(db: Db, ctx: RegistrationContext, userId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const user = activeAccount(await findUserById(tx, userId, { forUpdate: true }));
    const address = user.pending_email ?? (user.email_verified_at === null ? user.email : null);
    if (address !== null) await sendVerificationLink(tx, ctx, userId, address);
  });
}
