// The caller's own account: GET /users/me, and PATCH /users/me for what a user may change of it
// (the display name; the email address, with the current password).
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { sql } from '@paymesh/platform/db/open-database';
import { platformErrors } from '@paymesh/platform/errors';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { verifyPassword } from '../credentials/password-hash.ts';
import { usersErrors } from '../errors.ts';
import { maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import { tokensIssuedSince, voidLinks } from '../tokens/user-tokens.ts';
import { verificationLinksPerHour } from '../verification/verification-routes.ts';
import { requestEmailVerification, type RegistrationContext } from './create-user.ts';
import { activeAccount, findUserById, publicUser } from './user.ts';
import { normalizeEmail } from './validate-registration.ts';

// Nothing else is the user's to change (role, status, id are refused as unknown fields).
const profileChange = Type.Object({
  display_name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
  // Required with `email`: the address is how an account is recovered, so a stolen token
  // alone must not be able to move it.
  current_password: Type.Optional(Type.String({ minLength: 1, maxLength: maxPasswordLength * 4 })),
}, { additionalProperties: false, minProperties: 1 });

export function profileRoutes(app: HttpServer, runtime: Runtime, ctx: RegistrationContext, throttles: AccountThrottles): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/users/me', async (request) => {
      const user = await findUserById(db, localUserId(request.caller));
      if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
      return publicUser(user);
    });

    scope.patch('/users/me', { schema: { body: profileChange } }, async (request) => {
      const userId = localUserId(request.caller);
      const { display_name: displayName, email: rawEmail, current_password: currentPassword } = request.body;
      const email = rawEmail === undefined ? undefined : normalizeEmail(rawEmail);
      if (email !== undefined && currentPassword === undefined) throw platformErrors.missingParameter('current_password');
      // A current password is checked: counted before argon2, and run within the gate.
      if (email !== undefined) {
        await throttles.passwordCheck(userId, request.ip);
        await throttles.assertCurrentPasswordTries(userId);
      }
      const change = () => db.transaction(async (tx) => {
        const current = activeAccount(await findUserById(tx, userId, { forUpdate: true }));
        if (email !== undefined && !(await verifyPassword(current.password_hash, currentPassword!))) throw usersErrors.currentPasswordWrong();
        const changes: string[] = [];
        if (displayName !== undefined && displayName !== current.display_name) {
          await tx.execute(sql`update users set display_name = ${displayName}, updated_at = now() where id = ${userId}`);
          changes.push('display_name');
        }
        if (email !== undefined && email.toLowerCase() !== (current.pending_email ?? current.email ?? '').toLowerCase()) {
          // Every unused link stops working, whether or not a new one can be sent within the
          // hourly cap: verification links confirmed an address the owner just moved away from,
          // and reset links went to a mailbox that is about to stop speaking for the account.
          await voidLinks(tx, userId);
          if (email.toLowerCase() === current.email?.toLowerCase()) {
            // Back to the address in use: the change waiting for confirmation is dropped.
            await tx.execute(sql`update users set pending_email = null, updated_at = now() where id = ${userId}`);
          } else {
            // The new address takes over only once its link is followed; until then mail goes to the old one.
            await tx.execute(sql`update users set pending_email = ${email}, updated_at = now() where id = ${userId}`);
            // Each change mails an address the caller chose: under the same hourly cap as a resend,
            // or alternating two addresses would flood both. Beyond it the change still waits, and
            // POST /users/me/verify-email sends its link once the hour allows.
            if ((await tokensIssuedSince(tx, userId, 'verify_email', 3600)) < verificationLinksPerHour) await requestEmailVerification(tx, ctx, userId, email);
          }
          changes.push('pending_email');
        }
        if (changes.length > 0) await enqueueEvent(tx, 'user.updated', { user_id: Number(userId), changes });
        return (await findUserById(tx, userId))!;
      });
      const user = email === undefined ? await change() : await throttles.countingWrongCurrentPasswords(userId, () => throttles.heavy(change));
      runtime.relay.kick();
      return publicUser(user);
    });
  });
}
