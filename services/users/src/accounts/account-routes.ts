// Registration, the contract's create_user / delete_user, reading accounts and self-service
// (profile, email change, password change).
import { Type } from '@fastify/type-provider-typebox';
import { localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes, requireScope } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { platformErrors } from '@paymesh/platform/errors';
import { usersErrors } from '../errors.ts';
import { checkNewPassword, maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import { changeOwnPassword } from './change-own-password.ts';
import { register, type RegistrationContext } from './create-user.ts';
import { CurrentPasswordCheck } from './current-password-check.ts';
import { deleteUser } from './delete-user.ts';
import { updateOwnAccount } from './update-own-account.ts';
import { findUserById, publicUser, stillAdmin } from './user.ts';
import { normalizeEmail, validateRegistration, type Registration } from './validate-registration.ts';

/** The same answer whether the address was new or already had an account (see register). */
const registered = { object: 'registration', message: 'Check your email: follow the link we sent to confirm your address. You can log in now.' };

export function accountRoutes(app: HttpServer, runtime: Runtime, ctx: RegistrationContext, throttles: AccountThrottles): void {
  const { db } = runtime.database;
  const currentPasswords = new CurrentPasswordCheck();

  /**
   * A registration: counted per client address and per mailbox before anything costly (the
   * strength estimate, argon2), then run within the gate that keeps such work from slowing logins.
   */
  const registerFrom = async (clientAddress: string, registration: Registration) => {
    throttles.registration(clientAddress, registration.email);
    await throttles.heavy(async () => {
      checkNewPassword(registration.password, { username: registration.username, email: registration.email });
      await register(ctx, registration);
    });
  };

  // Public: anyone may register. Form-encoded (as Django's request.POST) or JSON.
  // A taken email address answers like a new one (the contract fixes only this body).
  app.post('/users/create_user', async (request) => {
    await registerFrom(request.ip, validateRegistration(request.body));
    return { success: true, message: 'User created successfully' };
  });

  // The REST registration is strict (unknown fields such as `role` are refused); create_user
  // above stays as lenient as the Django form it replaces, and ignores them.
  const registration = Type.Object({
    username: Type.String({ maxLength: 64 }),
    email: Type.String({ maxLength: 254 }),
    password: Type.String({ maxLength: maxPasswordLength * 4 }),
  }, { additionalProperties: false });
  app.post('/users', { schema: { body: registration } }, async (request, reply) => {
    await registerFrom(request.ip, validateRegistration(request.body));
    return reply.code(202).send(registered);
  });

  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/users/me', async (request) => {
      const user = await findUserById(db, localUserId(request.caller));
      if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
      return publicUser(user);
    });

    // What a user may change of their own account: nothing else (role, status, id are refused
    // as unknown fields, whatever the body says).
    scope.patch('/users/me', {
      schema: {
        body: Type.Object({
          display_name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
          email: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
          // Required with `email`: the address is how an account is recovered, so a stolen token
          // alone must not be able to move it.
          current_password: Type.Optional(Type.String({ minLength: 1, maxLength: maxPasswordLength * 4 })),
        }, { additionalProperties: false, minProperties: 1 }),
      },
    }, async (request) => {
      const userId = localUserId(request.caller);
      const { display_name: displayName, email: rawEmail, current_password: currentPassword } = request.body;
      const email = rawEmail === undefined ? undefined : normalizeEmail(rawEmail);
      if (email !== undefined && currentPassword === undefined) throw platformErrors.missingParameter('current_password');
      // A current password is checked: counted before argon2, and run within the gate.
      if (email !== undefined) throttles.passwordCheck(userId, request.ip);
      const change = () => updateOwnAccount(ctx, currentPasswords, userId, { displayName, email, currentPassword });
      const user = email === undefined ? await change() : await throttles.heavy(change);
      return publicUser(user);
    });

    scope.post('/users/me/password', {
      schema: { body: Type.Object({ current_password: Type.String({ minLength: 1, maxLength: maxPasswordLength * 4 }), new_password: Type.String({ maxLength: maxPasswordLength * 4 }) }, { additionalProperties: false }) },
    }, async (request) => {
      const userId = localUserId(request.caller);
      throttles.passwordCheck(userId, request.ip);
      await throttles.heavy(() => changeOwnPassword(db, currentPasswords, userId, request.body.current_password, request.body.new_password));
      // Every token of the user, this one included, is refused from now on: log in again.
      return { object: 'password_change', changed: true, message: 'Password changed; every session was signed out.' };
    });

    scope.get('/users/:id', { schema: { params: Type.Object({ id: Type.String() }) } }, async (request) => {
      const { caller } = request;
      if (caller.kind === 'service') requireScope(caller, 'users:read');
      // Someone else's id answers 404, not 403: whether an account exists is not theirs to learn.
      if (!mayActFor(caller, request.params.id)) throw usersErrors.userNotFound();
      // Another user's account, by an admin's token: only while the table still says admin.
      if (caller.kind === 'user' && caller.subject !== request.params.id && !(await stillAdmin(db, caller))) throw usersErrors.userNotFound();
      const user = await findUserById(db, request.params.id);
      if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
      return publicUser(user);
    });

    const remove = async (callerId: Parameters<typeof mayActFor>[0], userId: unknown) => {
      if (typeof userId !== 'string' && typeof userId !== 'number') throw usersErrors.invalidInput('user_id', 'Missing required parameter: user_id.');
      const id = String(userId);
      if (callerId.kind === 'service') throw platformErrors.forbidden('Services cannot delete users.');
      if (!mayActFor(callerId, id)) throw usersErrors.userNotFound();
      if (callerId.subject !== id && !(await stillAdmin(db, callerId))) throw usersErrors.userNotFound();
      await deleteUser(db, id);
    };

    scope.post('/users/delete_user', async (request) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      await remove(request.caller, body.user_id);
      return { success: true, message: 'User deleted successfully' };
    });

    scope.delete('/users/:id', { schema: { params: Type.Object({ id: Type.String() }) } }, async (request, reply) => {
      await remove(request.caller, request.params.id);
      return reply.code(204).send();
    });
  });
}
