// Reading and deleting accounts: GET /users/:id (the user, an admin, a service), DELETE /users/:id
// and the contract's POST /users/delete_user (the user or an admin; never a service).
import { Type } from '@fastify/type-provider-typebox';
import { mayActFor, type Caller } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { noContent } from '@paymesh/platform/openapi/no-content';
import { errorAnswer, formOrJson } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { usersErrors } from '../errors.ts';
import { deleteUser } from './delete-user.ts';
import { legacySuccessSchema } from './legacy-success-schema.ts';
import { findUserById, publicUser, stillAdmin, userSchema } from './user.ts';


/** What the contract's POST /users/delete_user reads (remove() checks it). */
const deleteUserBody = Type.Object({
  user_id: Type.Union([Type.String(), Type.Integer()], { description: 'The user to delete: the caller\'s own id, or any user\'s for an administrator.' }),
}, { description: 'A form post or JSON.' });

const notFound = errorAnswer('No such user, or not one the caller may see or delete (user_not_found).');

export function accountRoutes(app: HttpServer, runtime: Runtime): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    // A service reads accounts under users:read; a user reads their own, an admin anyone's.
    scope.get('/users/:id', { config: { scope: 'users:read' }, schema: { params: Type.Object({ id: Type.String() }), response: { 200: userSchema, 404: notFound } } }, async (request) => {
      const { caller } = request;
      // Someone else's id answers 404, not 403: whether an account exists is not theirs to learn.
      if (!mayActFor(caller, request.params.id)) throw usersErrors.userNotFound();
      // Another user's account, by an admin's token: only while the table still says admin.
      if (caller.kind === 'user' && caller.subject !== request.params.id && !(await stillAdmin(db, caller))) throw usersErrors.userNotFound();
      const user = await findUserById(db, request.params.id);
      if (user === undefined || user.status === 'deleted') throw usersErrors.userNotFound();
      return publicUser(user);
    });

    const remove = async (caller: Caller, userId: unknown) => {
      if (typeof userId !== 'string' && typeof userId !== 'number') throw usersErrors.invalidInput('user_id', 'Missing required parameter: user_id.');
      const id = String(userId);
      if (!mayActFor(caller, id)) throw usersErrors.userNotFound();
      if (caller.subject !== id && !(await stillAdmin(db, caller))) throw usersErrors.userNotFound();
      await deleteUser(db, id);
    };

    scope.post('/users/delete_user', {
      config: { callers: ['user'], scope: 'users:write', documentedBody: { schema: deleteUserBody, consumes: formOrJson } },
      schema: { response: { 200: legacySuccessSchema, 400: errorAnswer('user_id is missing or not a string or number (parameter_invalid), or names the platform\'s last active admin (last_admin).'), 404: notFound } },
    }, async (request) => {
      const body = (request.body ?? {}) as Record<string, unknown>;
      await remove(request.caller, body.user_id);
      return { success: true, message: 'User deleted successfully' } as const;
    });

    const deletedAnswers = {
      204: noContent('Deleted: the personal data is erased and the account kept as a tombstone; every token of the user is revoked.'),
      400: errorAnswer('The account is the platform\'s last active admin (last_admin): make another user admin first.'),
      404: notFound,
    };

    // The caller's own account, without knowing its id (as GET and PATCH /users/me).
    scope.delete('/users/me', {
      config: { callers: ['user'], scope: 'users:write' },
      schema: { response: deletedAnswers },
    }, async (request, reply) => {
      await remove(request.caller, request.caller.subject);
      return reply.code(204).send();
    });

    scope.delete('/users/:id', {
      config: { callers: ['user'], scope: 'users:write' },
      schema: { params: Type.Object({ id: Type.String() }), response: deletedAnswers },
    }, async (request, reply) => {
      await remove(request.caller, request.params.id);
      return reply.code(204).send();
    });
  });
}
