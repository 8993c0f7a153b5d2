// POST /users/me/password: a signed-in user changes their password with the current one; every
// token of theirs, the one used here included, is refused from then on.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import { changeOwnPassword } from './change-own-password.ts';
import type { CurrentPasswordCheck } from './current-password-check.ts';

const passwordChange = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: maxPasswordLength * 4 }),
  new_password: Type.String({ maxLength: maxPasswordLength * 4 }),
}, { additionalProperties: false });

const passwordChanged = Type.Object({
  object: Type.Literal('password_change'),
  changed: Type.Literal(true),
  message: Type.String({ description: 'A sentence for a person.' }),
}, { description: 'The password is changed; every token of the user, the one used here included, is refused from now on.' });

export function passwordChangeRoutes(app: HttpServer, runtime: Runtime, throttles: AccountThrottles, currentPasswords: CurrentPasswordCheck): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/users/me/password', {
      config: { scope: 'users:write' },
      schema: {
        body: passwordChange,
        response: {
          200: passwordChanged,
          400: errorAnswer('A field is missing, unknown or not valid, the current password is wrong, or the new one is too weak or too common (parameter_missing, parameter_unknown, parameter_invalid, current_password_invalid, password_too_weak, password_too_common).'),
          403: errorAnswer('The account is disabled, or the token names no Paymesh user (forbidden).'),
          404: errorAnswer('The account was deleted (user_not_found).'),
          429: errorAnswer('Too many password checks for this account or from this network, or too many wrong current passwords; Retry-After says when to try again (password_check_rate_limited, rate_limited).'),
          503: errorAnswer('Too much password hashing under way; retry after Retry-After (service_busy).'),
        },
      },
    }, async (request) => {
      const userId = localUserId(request.caller);
      await throttles.passwordCheck(userId, request.ip);
      await currentPasswords.guard(userId, () => throttles.heavy(() => changeOwnPassword(db, currentPasswords, userId, request.body.current_password, request.body.new_password)));
      return { object: 'password_change', changed: true, message: 'Password changed; every session was signed out.' } as const;
    });
  });
}
