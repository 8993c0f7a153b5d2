// The caller's own account: GET /users/me, and PATCH /users/me for what a user may change of it
// (the display name; the email address, with the current password).
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { platformErrors } from '@paymesh/platform/errors';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { usersErrors } from '../errors.ts';
import { maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import type { RegistrationContext } from './create-user.ts';
import type { CurrentPasswordCheck } from './current-password-check.ts';
import { updateOwnAccount } from './update-own-account.ts';
import { findUserById, publicUser } from './user.ts';
import { normalizeEmail } from './validate-registration.ts';

// Nothing else is the user's to change (role, status, id are refused as unknown fields).
const profileChange = Type.Object({
  display_name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
  // Required with `email`: the address is how an account is recovered, so a stolen token
  // alone must not be able to move it.
  current_password: Type.Optional(Type.String({ minLength: 1, maxLength: maxPasswordLength * 4 })),
}, { additionalProperties: false, minProperties: 1 });

export function profileRoutes(app: HttpServer, runtime: Runtime, ctx: RegistrationContext, throttles: AccountThrottles, currentPasswords: CurrentPasswordCheck): void {
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
      const change = () => updateOwnAccount(ctx, currentPasswords, userId, { displayName, email, currentPassword });
      let user;
      if (email === undefined) {
        user = await change();
      } else {
        // A current password is checked: counted before argon2, and run within the gate.
        await throttles.passwordCheck(userId, request.ip);
        user = await currentPasswords.guard(userId, () => throttles.heavy(change));
      }
      return publicUser(user);
    });
  });
}
