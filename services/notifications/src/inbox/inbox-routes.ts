// The inbox: the contract's GET /notifications/ and PUT /notifications/<id>/ (mark read), the
// unread count, PATCH (read or unread), mark all read and DELETE. Every route acts on the
// caller's own notifications: another user's id is 404. Sending one is dispatch/send-message-routes.ts.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import { noContent } from '@paymesh/platform/openapi/no-content';
import { deleteNotification, markAllRead, markRead, setRead, unreadCount } from './inbox-store.ts';
import { listNotifications } from './list-notifications.ts';
import { notificationSchema, publicNotification } from './notification.ts';
import { isNumericId, numericIdSchema } from '@paymesh/platform/ids';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import { pageLimit, pageQuery } from '@paymesh/platform/pagination';

const notificationNotFound = errorAnswer('No such notification of the caller\'s (notification_not_found); the error object also carries the contract\'s top-level `message`.');

export function inboxRoutes(app: HttpServer, runtime: Runtime): void {
  const { db } = runtime.database;

  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/notifications', {
      config: { scope: 'notifications:read' },
      schema: {
        querystring: Type.Object({
          ...pageQuery(numericIdSchema),
          unread: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])),
        }, { additionalProperties: false }),
        response: {
          200: Type.Array(notificationSchema, {
            description: 'The caller\'s notifications, newest first, as a bare array (the seed\'s contract); the next page starts after the last id (`starting_after`).',
            headers: { 'paymesh-has-more': { type: 'string', enum: ['true', 'false'], description: 'Whether a next page exists.' } },
          }),
        },
      },
    }, async (request, reply) => {
      const { caller } = request;
      const page = await listNotifications(db, localUserId(caller), {
        limit: pageLimit(request.query.limit, 50),
        startingAfter: request.query.starting_after,
        unreadOnly: request.query.unread === 'true',
      });
      // The contract's body is a bare array; the next page is announced in a header.
      reply.header('paymesh-has-more', String(page.hasMore));
      return page.rows.map(publicNotification);
    });

    scope.put('/notifications/:id', {
      config: { scope: 'notifications:write' },
      schema: {
        params: Type.Object({ id: Type.String() }),
        response: {
          200: Type.Object({ message: Type.String({ examples: ['Notification marked as read.'] }) }, { description: 'Marked read (the contract\'s answer); marking it again keeps the first read time.' }),
          404: notificationNotFound,
        },
      },
    }, async (request) => {
      const { caller } = request;
      const recipient = localUserId(caller);
      if (!isNumericId(request.params.id)) throw notificationsErrors.notificationNotFound();
      // Only the recipient can mark it; the first read time is kept.
      const marked = await markRead(db, recipient, request.params.id);
      if (!marked) throw notificationsErrors.notificationNotFound();
      return { message: 'Notification marked as read.' };
    });

    scope.get('/notifications/unread_count', {
      config: { scope: 'notifications:read' },
      schema: {
        response: {
          200: Type.Object({ object: Type.Literal('unread_count'), unread: Type.Integer({ minimum: 0, description: 'How many of the caller\'s notifications are unread.' }) }, { description: 'The caller\'s unread count.' }),
        },
      },
    }, async (request) => {
      return { object: 'unread_count' as const, unread: await unreadCount(db, localUserId(request.caller)) };
    });

    scope.patch('/notifications/:id', {
      config: { scope: 'notifications:write' },
      schema: {
        params: Type.Object({ id: Type.String() }),
        body: Type.Object({ read: Type.Boolean() }, { additionalProperties: false }),
        response: { 200: notificationSchema, 404: notificationNotFound },
      },
    }, async (request) => {
      const recipient = localUserId(request.caller);
      if (!isNumericId(request.params.id)) throw notificationsErrors.notificationNotFound();
      const row = await setRead(db, recipient, request.params.id, request.body.read);
      if (row === undefined) throw notificationsErrors.notificationNotFound();
      return publicNotification(row);
    });

    scope.post('/notifications/mark_all_read', {
      config: { scope: 'notifications:write' },
      schema: {
        response: {
          200: Type.Object({
            message: Type.String({ examples: ['All notifications marked as read.'] }),
            updated: Type.Integer({ minimum: 0, description: 'How many notifications were unread and are now read.' }),
          }, { description: 'Every unread notification of the caller is marked read.' }),
        },
      },
    }, async (request) => {
      const updated = await markAllRead(db, localUserId(request.caller));
      return { message: 'All notifications marked as read.', updated };
    });

    scope.delete('/notifications/:id', {
      config: { scope: 'notifications:write' },
      schema: {
        params: Type.Object({ id: Type.String() }),
        response: { 204: noContent('Deleted.'), 404: notificationNotFound },
      },
    }, async (request, reply) => {
      const recipient = localUserId(request.caller);
      if (!isNumericId(request.params.id)) throw notificationsErrors.notificationNotFound();
      const deleted = await deleteNotification(db, recipient, request.params.id);
      if (!deleted) throw notificationsErrors.notificationNotFound();
      return reply.code(204).send();
    });
  });
}
