// What admins do to accounts: list and search them, disable and enable them, change roles. A
// disabled user can no longer log in (the credential check refuses them), pay (payments follows
// user.disabled) or use a live token (auth revokes them on the same event).
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { platformErrors } from '@paymesh/platform/errors';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { publicUser, stillAdmin, userSchema } from '../accounts/user.ts';
import { usersErrors } from '../errors.ts';
import { administerUser } from './administer-user.ts';
import { listUsers } from './list-users.ts';
import { isNumericId, numericIdSchema } from '@paymesh/platform/ids';
import { listOf, listSchema, pageLimit, pageQuery } from '@paymesh/platform/pagination';
import { checkDisplayName, displayNameSchema } from '../accounts/display-name.ts';

const role = Type.Union([Type.Literal('user'), Type.Literal('admin')]);

const userList = listSchema(userSchema, 'A page of accounts, in id order; deleted ones only when asked for by status.');


export function adminRoutes(app: HttpServer, runtime: Runtime): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/users', {
      config: { callers: ['admin'] },
      schema: {
        querystring: Type.Object({
          ...pageQuery(numericIdSchema),
          // A prefix of the username or the email address, any case.
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
          role: Type.Optional(role),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('deleted')])),
          email_verified: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
        }, { additionalProperties: false }),
        response: {
          200: userList,
          403: errorAnswer('Not an admin, or no longer one (forbidden).'),
        },
      },
    }, async (request) => {
      // The token says admin; the table must still say so (a demoted admin's token lives on).
      if (!(await stillAdmin(db, request.caller))) throw platformErrors.forbidden('Only admins may list users.');
      const q = request.query;
      const page = await listUsers(db, {
        startingAfter: q.starting_after,
        prefix: q.q,
        role: q.role,
        status: q.status,
        emailVerified: q.email_verified === undefined ? undefined : q.email_verified === 'true',
      }, pageLimit(q.limit, 20));
      return listOf(page.rows.map(publicUser), page.hasMore);
    });

    scope.patch('/users/:id', {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 20 }) }),
        body: Type.Object({
          role: Type.Optional(role),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
          display_name: Type.Optional(Type.Union([displayNameSchema, Type.Null()])),
        }, { additionalProperties: false, minProperties: 1 }),
        response: {
          200: userSchema,
          400: errorAnswer('A field is missing, unknown or not valid, or an admin tried to disable their own account or take away their own admin role (parameter_missing, parameter_unknown, parameter_invalid, own_access).'),
          403: errorAnswer('A user who is not (or no longer) an admin asked to change their own account, or the caller is a service (forbidden).'),
          404: errorAnswer('No such user, or the caller may not administer it (user_not_found).'),
        },
      },
    }, async (request) => {
      const { caller } = request;
      const id = request.params.id;
      // Another user's account is not theirs to learn about (404), their own is not theirs to administer (403).
      const refuseNonAdmin = () => {
        if (caller.kind === 'user' && caller.subject === id) return platformErrors.forbidden('Only admins may change roles and status; use PATCH /users/me for your profile.');
        if (caller.kind === 'service') return platformErrors.forbidden('Services cannot administer users.');
        return usersErrors.userNotFound();
      };
      if (!isAdmin(caller)) throw refuseNonAdmin();
      if (!isNumericId(id)) throw usersErrors.userNotFound();
      const { role: newRole, status, display_name: displayName } = request.body;
      checkDisplayName(displayName);
      // An admin cannot lock themselves out (nor the platform out of its last admin by accident).
      if (caller.subject === id && ((status !== undefined && status !== 'active') || (newRole !== undefined && newRole !== 'admin'))) throw usersErrors.ownAccess();
      const user = await administerUser(db, caller, id, { role: newRole, status, displayName }, refuseNonAdmin);
      return publicUser(user);
    });
  });
}
