// POST /users/me/password: a signed-in user changes their password with the current one; every
// token of theirs, the one used here included, is refused from then on.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import { changeOwnPassword } from './change-own-password.ts';
import type { CurrentPasswordCheck } from './current-password-check.ts';

const passwordChange = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: maxPasswordLength * 4 }),
  new_password: Type.String({ maxLength: maxPasswordLength * 4 }),
}, { additionalProperties: false });

export function passwordChangeRoutes(app: HttpServer, runtime: Runtime, throttles: AccountThrottles, currentPasswords: CurrentPasswordCheck): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/users/me/password', { schema: { body: passwordChange } }, async (request) => {
      const userId = localUserId(request.caller);
      await throttles.passwordCheck(userId, request.ip);
      await currentPasswords.guard(userId, () => throttles.heavy(() => changeOwnPassword(db, currentPasswords, userId, request.body.current_password, request.body.new_password)));
      return { object: 'password_change', changed: true, message: 'Password changed; every session was signed out.' };
    });
  });
}
