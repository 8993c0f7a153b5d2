// The inbox: the contract's GET /notifications/ and PUT /notifications/<id>/ (mark read), the
// unread count, PATCH (read or unread), mark all read, DELETE, and POST /notifications for admins
// and services (also sent by email, push and webhooks, as the type and the user's preferences say).
// Every route acts on the caller's own notifications: another user's id is 404.
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes, requireScope } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { platformErrors } from '@paymesh/platform/errors';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { announceInboxChange } from '../live/inbox-hub.ts';
import { notificationsErrors } from '../errors.ts';
import { dispatchMessage, type Fanout } from '../messages/dispatch-message.ts';
import { notificationType } from '../messages/notification-types.ts';
import { publicNotification, type NotificationRow } from './notification.ts';

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const protocol = URL.parse(value)?.protocol;
  return protocol === 'http:' || protocol === 'https:';
}

export function inboxRoutes(app: HttpServer, runtime: Runtime, fanout: Fanout): void {
  const { db } = runtime.database;
  /** Runs a change of one user's inbox in a transaction that announces it to the live streams. */
  const changeInbox = async <T>(recipient: string, change: (tx: Db) => Promise<T[]>): Promise<T[]> => {
    return db.transaction(async (tx) => {
      const result = await change(tx);
      if (result.length > 0) await announceInboxChange(tx, recipient);
      return result;
    });
  };

  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/notifications', {
      schema: {
        querystring: Type.Object({
          limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
          starting_after: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$' })),
          unread: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
        }, { additionalProperties: false }),
      },
    }, async (request, reply) => {
      const { caller } = request;
      requireScope(caller, 'notifications:read');
      const limit = Number(request.query.limit ?? 50);
      const recipient = localUserId(caller);
      let cursor = sql`true`;
      if (request.query.starting_after !== undefined) {
        // The cursor must be one of the caller's own notifications.
        const [found] = await queryRows<{ id: string }>(db, sql`select id from notifications where id = ${request.query.starting_after} and recipient_id = ${recipient}`);
        if (found === undefined) throw notificationsErrors.invalidCursor();
        cursor = sql`id < ${found.id}`;
      }
      const unread = request.query.unread === 'true' ? sql`read_at is null` : sql`true`;
      const rows = await queryRows<NotificationRow>(db, sql`
        select * from notifications where recipient_id = ${recipient} and ${cursor} and ${unread}
        order by id desc limit ${limit + 1}`);
      // The contract's body is a bare array; the next page is announced in a header.
      reply.header('paymesh-has-more', String(rows.length > limit));
      return rows.slice(0, limit).map(publicNotification);
    });

    scope.put('/notifications/:id', { schema: { params: Type.Object({ id: Type.String() }) } }, async (request) => {
      const { caller } = request;
      requireScope(caller, 'notifications:write');
      const recipient = localUserId(caller);
      if (!/^[1-9][0-9]{0,17}$/.test(request.params.id)) throw notificationsErrors.notificationNotFound();
      // Only the recipient can mark it; the first read time is kept.
      const rows = await changeInbox(recipient, (tx) => queryRows<{ id: string }>(tx, sql`
        update notifications set read_at = coalesce(read_at, now()) where id = ${request.params.id} and recipient_id = ${recipient} returning id`));
      if (rows.length === 0) throw notificationsErrors.notificationNotFound();
      return { message: 'Notification marked as read.' };
    });

    scope.get('/notifications/unread_count', async (request) => {
      requireScope(request.caller, 'notifications:read');
      // Always counted from the table (an index of unread rows), never kept as a counter that could drift.
      const [row] = await queryRows<{ n: string }>(db, sql`select count(*)::text as n from notifications where recipient_id = ${localUserId(request.caller)} and read_at is null`);
      return { object: 'unread_count', unread: Number(row!.n) };
    });

    scope.patch('/notifications/:id', {
      schema: { params: Type.Object({ id: Type.String() }), body: Type.Object({ read: Type.Boolean() }, { additionalProperties: false }) },
    }, async (request) => {
      requireScope(request.caller, 'notifications:write');
      const recipient = localUserId(request.caller);
      if (!/^[1-9][0-9]{0,17}$/.test(request.params.id)) throw notificationsErrors.notificationNotFound();
      const readAt = request.body.read ? sql`coalesce(read_at, now())` : sql`null`;
      const [row] = await changeInbox(recipient, (tx) => queryRows<NotificationRow>(tx, sql`
        update notifications set read_at = ${readAt} where id = ${request.params.id} and recipient_id = ${recipient} returning *`));
      if (row === undefined) throw notificationsErrors.notificationNotFound();
      return publicNotification(row);
    });

    scope.post('/notifications/mark_all_read', async (request) => {
      requireScope(request.caller, 'notifications:write');
      const recipient = localUserId(request.caller);
      const rows = await changeInbox(recipient, (tx) => queryRows<{ id: string }>(tx, sql`
        update notifications set read_at = now() where recipient_id = ${recipient} and read_at is null returning id`));
      return { message: 'All notifications marked as read.', updated: rows.length };
    });

    scope.delete('/notifications/:id', { schema: { params: Type.Object({ id: Type.String() }) } }, async (request, reply) => {
      requireScope(request.caller, 'notifications:write');
      const recipient = localUserId(request.caller);
      if (!/^[1-9][0-9]{0,17}$/.test(request.params.id)) throw notificationsErrors.notificationNotFound();
      const rows = await changeInbox(recipient, (tx) => queryRows<{ id: string }>(tx, sql`delete from notifications where id = ${request.params.id} and recipient_id = ${recipient} returning id`));
      if (rows.length === 0) throw notificationsErrors.notificationNotFound();
      return reply.code(204).send();
    });

    scope.post('/notifications', {
      schema: {
        body: Type.Object({
          user_id: Type.Integer({ minimum: 1 }),
          message: Type.String({ minLength: 1, maxLength: 2000 }),
          title: Type.Optional(Type.String({ maxLength: 200 })),
          type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_.]{0,63}$' })),
          data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        }, { additionalProperties: false }),
      },
    }, async (request, reply) => {
      const { caller } = request;
      if (!(isAdmin(caller) || caller.kind === 'service')) throw platformErrors.forbidden('Only admins and services may send notifications.');
      requireScope(caller, 'notifications:write');
      const type = request.body.type ?? 'message';
      if (notificationType(type).servicesOnly && caller.kind !== 'service') throw notificationsErrors.servicesOnlyType(type);
      const data = request.body.data ?? {};
      // It becomes the email's button: anything but an absolute http(s) URL is refused here, as
      // the caller's mistake, rather than failing the render (a 500) once it is being sent.
      if (data.action_url !== undefined && !isHttpUrl(data.action_url)) {
        throw platformErrors.invalidParameter('data.action_url', 'data.action_url must be an absolute http or https URL.');
      }
      const sent = await db.transaction((tx) => dispatchMessage(tx, {
        recipientId: String(request.body.user_id),
        type,
        title: request.body.title,
        message: request.body.message,
        data,
      }, fanout));
      fanout.afterCommit();
      // A type that is not shown in the inbox (a reset link goes by email only) has no notification.
      if (sent.erased) throw notificationsErrors.recipientNotFound();
      if (sent.notification === undefined) return reply.code(202).send({ object: 'message', type, in_app: false, deliveries: sent.deliveries });
      const row = sent.notification;
      return reply.code(201).send(publicNotification(row));
    });
  });
}
