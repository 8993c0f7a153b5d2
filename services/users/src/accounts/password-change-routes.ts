// POST /users/me/password: a logged-in user changes their password with the current one; every
// token of theirs, the one used here included, is refused from then on.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { verifyPassword } from '../credentials/password-hash.ts';
import { usersErrors } from '../errors.ts';
import { checkNewPassword, maxPasswordLength } from '../passwords/check-password.ts';
import { setPassword } from '../password-reset/password-reset-routes.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import { activeAccount, findUserById } from './user.ts';

const passwordChange = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: maxPasswordLength * 4 }),
  new_password: Type.String({ maxLength: maxPasswordLength * 4 }),
}, { additionalProperties: false });

export function passwordChangeRoutes(app: HttpServer, runtime: Runtime, throttles: AccountThrottles): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/users/me/password', { schema: { body: passwordChange } }, async (request) => {
      const userId = localUserId(request.caller);
      await throttles.passwordCheck(userId, request.ip);
      await throttles.assertCurrentPasswordTries(userId);
      await throttles.countingWrongCurrentPasswords(userId, () => throttles.heavy(() => db.transaction(async (tx) => {
        const user = activeAccount(await findUserById(tx, userId, { forUpdate: true }));
        if (!(await verifyPassword(user.password_hash, request.body.current_password))) throw usersErrors.currentPasswordWrong();
        checkNewPassword(request.body.new_password, { username: user.username, email: user.email, displayName: user.display_name, param: 'new_password' });
        await setPassword(tx, userId, request.body.new_password, { confirmEmail: false });
      })));
      runtime.relay.kick();
      return { object: 'password_change', changed: true, message: 'Password changed; every session was signed out.' };
    });
  });
}
