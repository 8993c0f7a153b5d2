// The caller's own account: GET /users/me, and PATCH /users/me for what a user may change of it
// (the display name; the email address, with the current password).
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { platformErrors } from '@paymesh/platform/errors';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { usersErrors } from '../errors.ts';
import { maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import type { RegistrationContext } from './create-user.ts';
import type { CurrentPasswordCheck } from './current-password-check.ts';
import { checkDisplayName, displayNameSchema } from './display-name.ts';
import { updateOwnAccount } from './update-own-account.ts';
import { findUserById, publicUser, userSchema } from './user.ts';
import { normalizeEmail } from './validate-registration.ts';

// Nothing else is the user's to change (role, status, id are refused as unknown fields).
const profileChange = Type.Object({
  display_name: Type.Optional(Type.Union([displayNameSchema, Type.Null()])),
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
  // Required with `email`: the address is how an account is recovered, so a stolen token
  // alone must not be able to move it.
  current_password: Type.Optional(Type.String({ minLength: 1, maxLength: maxPasswordLength * 4 })),
}, { additionalProperties: false, minProperties: 1 });

export function profileRoutes(app: HttpServer, runtime: Runtime, ctx: RegistrationContext, throttles: AccountThrottles, currentPasswords: CurrentPasswordCheck): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/users/me', {
      config: { scope: 'users:read' },
      schema: {
        response: {
          200: userSchema,
          403: errorAnswer('The token names no Paymesh user: a service\'s, or one from another issuer (forbidden).'),
          404: errorAnswer('The account was deleted (user_not_found).'),
        },
      },
    }, async (request) => {
      const user = await findUserById(db, localUserId(request.caller));
      if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
      return publicUser(user);
    });

    scope.patch('/users/me', {
      config: { scope: 'users:write' },
      schema: {
        body: profileChange,
        response: {
          200: userSchema,
          400: errorAnswer('A field is missing, unknown or not valid, or the current password is missing or wrong (parameter_missing, parameter_unknown, parameter_invalid, login_not_normalized, current_password_invalid).'),
          403: errorAnswer('The account is disabled, or the token names no Paymesh user (forbidden).'),
          404: errorAnswer('The account was deleted (user_not_found).'),
          429: errorAnswer('Too many password checks for this account or from this network, or too many wrong current passwords; Retry-After says when to try again (password_check_rate_limited, rate_limited).'),
          503: errorAnswer('Too much password hashing under way; retry after Retry-After (service_busy).'),
        },
      },
    }, async (request) => {
      const userId = localUserId(request.caller);
      const { display_name: displayName, email: rawEmail, current_password: currentPassword } = request.body;
      checkDisplayName(displayName);
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
