// What admins do to accounts: list and search them, disable and enable them, change roles. A
// disabled user can no longer log in (the credential check refuses them), pay (payments follows
// user.disabled) or use a live token (auth revokes them on the same event).
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { queryRows, sql, type SQL } from '@paymesh/platform/db/open-database';
import { platformErrors } from '@paymesh/platform/errors';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { findUserById, publicUser, stillAdmin, type UserRow } from '../accounts/user.ts';
import { usersErrors } from '../errors.ts';

const role = Type.Union([Type.Literal('user'), Type.Literal('admin')]);

/** An id as the API writes it. `007` names nobody here (the database would read it as user 7). */
const canonicalId = /^[1-9][0-9]{0,17}$/;

export function adminRoutes(app: HttpServer, runtime: Runtime): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/users', {
      schema: {
        querystring: Type.Object({
          limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
          starting_after: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$' })),
          // A prefix of the username or the email address, any case.
          q: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
          role: Type.Optional(role),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('deleted')])),
          email_verified: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
        }, { additionalProperties: false }),
      },
    }, async (request) => {
      if (!isAdmin(request.caller) || !(await stillAdmin(db, request.caller))) throw platformErrors.forbidden('Only admins may list users.');
      const q = request.query;
      const limit = Number(q.limit ?? 20);
      const prefix = q.q === undefined ? undefined : `${q.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const filters: SQL[] = [
        q.starting_after === undefined ? sql`true` : sql`id > ${q.starting_after}`,
        prefix === undefined ? sql`true` : sql`(lower(username) like ${prefix} or lower(email) like ${prefix})`,
        q.role === undefined ? sql`true` : sql`role = ${q.role}`,
        // Deleted accounts are tombstones: listed only when asked for.
        q.status === undefined ? sql`status <> 'deleted'` : sql`status = ${q.status}`,
        q.email_verified === undefined ? sql`true` : q.email_verified === 'true' ? sql`email_verified_at is not null` : sql`email_verified_at is null`,
      ];
      const rows = await queryRows<UserRow>(db, sql`select * from users where ${sql.join(filters, sql` and `)} order by id limit ${limit + 1}`);
      return { object: 'list', data: rows.slice(0, limit).map(publicUser), has_more: rows.length > limit };
    });

    scope.patch('/users/:id', {
      schema: {
        params: Type.Object({ id: Type.String({ maxLength: 20 }) }),
        body: Type.Object({
          role: Type.Optional(role),
          status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('disabled')])),
          display_name: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()])),
        }, { additionalProperties: false, minProperties: 1 }),
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
      if (!canonicalId.test(id)) throw usersErrors.userNotFound();
      const { role: newRole, status, display_name: displayName } = request.body;
      // An admin cannot lock themselves out (nor the platform out of its last admin by accident).
      if (caller.subject === id && ((status !== undefined && status !== 'active') || (newRole !== undefined && newRole !== 'admin'))) throw usersErrors.ownAccess();
      const user = await db.transaction(async (tx) => {
        // The acting admin's row and the target's, locked in id order (no deadlock): two admins
        // demoting or disabling each other at once are serialised, and the second is no longer an
        // admin by the time its turn comes.
        await tx.execute(sql`select id from users where id in (${localUserId(caller)}, ${id}) order by id for update`);
        if (!(await stillAdmin(tx, caller))) throw refuseNonAdmin();
        const current = await findUserById(tx, id);
        if (current === undefined || current.status === 'deleted') throw usersErrors.userNotFound();
        const changes: string[] = [];
        if (newRole !== undefined && newRole !== current.role) {
          await tx.execute(sql`update users set role = ${newRole}, updated_at = now() where id = ${id}`);
          changes.push('role');
        }
        if (displayName !== undefined && displayName !== current.display_name) {
          await tx.execute(sql`update users set display_name = ${displayName}, updated_at = now() where id = ${id}`);
          changes.push('display_name');
        }
        if (changes.length > 0) await enqueueEvent(tx, 'user.updated', { user_id: Number(id), changes, role: newRole ?? current.role });
        if (status !== undefined && status !== current.status) {
          await tx.execute(sql`update users set status = ${status}, updated_at = now() where id = ${id}`);
          await enqueueEvent(tx, status === 'disabled' ? 'user.disabled' : 'user.enabled', { user_id: Number(id) });
        }
        return (await findUserById(tx, id))!;
      });
      return publicUser(user);
    });
  });
}
