// Registration, the contract's create_user / delete_user, and reading accounts.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes, requireScope } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { platformErrors } from '@paymesh/platform/errors';
import { usersErrors } from '../errors.ts';
import { createUser } from './create-user.ts';
import { deleteUser } from './delete-user.ts';
import { findUserById, publicUser } from './user.ts';
import { validateRegistration } from './validate-registration.ts';

export function accountRoutes(app: HttpServer, runtime: Runtime): void {
  const { db } = runtime.database;

  // Public: anyone may register. Form-encoded (as Django's request.POST) or JSON.
  app.post('/users/create_user', async (request) => {
    await createUser(db, validateRegistration(request.body));
    runtime.relay.kick();
    return { success: true, message: 'User created successfully' };
  });

  // The REST registration is strict (unknown fields such as `role` are refused); create_user
  // above stays as lenient as the Django form it replaces, and ignores them.
  const registration = Type.Object({
    username: Type.String({ maxLength: 64 }),
    email: Type.String({ maxLength: 254 }),
    password: Type.String({ maxLength: 1024 }),
  }, { additionalProperties: false });
  app.post('/users', { schema: { body: registration } }, async (request, reply) => {
    const user = await createUser(db, validateRegistration(request.body));
    runtime.relay.kick();
    return reply.code(201).send(publicUser(user));
  });

  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/users/me', async (request) => {
      const user = await findUserById(db, localUserId(request.caller));
      if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
      return publicUser(user);
    });

    scope.get('/users/:id', { schema: { params: Type.Object({ id: Type.String() }) } }, async (request) => {
      const { caller } = request;
      if (caller.kind === 'service') requireScope(caller, 'users:read');
      // Someone else's id answers 404, not 403: whether an account exists is not theirs to learn.
      if (!mayActFor(caller, request.params.id)) throw usersErrors.userNotFound();
      const user = await findUserById(db, request.params.id);
      if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
      return publicUser(user);
    });

    const remove = async (callerId: Parameters<typeof mayActFor>[0], userId: unknown) => {
      if (typeof userId !== 'string' && typeof userId !== 'number') throw usersErrors.invalidInput('user_id', 'Missing required parameter: user_id.');
      const id = String(userId);
      if (callerId.kind === 'service') throw platformErrors.forbidden('Services cannot delete users.');
      if (!mayActFor(callerId, id)) throw usersErrors.userNotFound();
      await deleteUser(db, id);
      runtime.relay.kick();
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
