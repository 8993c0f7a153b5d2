// POST /notifications, for admins and services: one message to one user, in the inbox and by
// email, push and webhooks, as the type and the user's preferences say (dispatch-message.ts).
import { Type } from '@fastify/type-provider-typebox';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { platformErrors } from '@paymesh/platform/errors';
import { numericIdInteger } from '@paymesh/platform/ids';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import { notificationSchema, publicNotification } from '../inbox/notification.ts';
import { notificationType, notificationTypeSchema } from '../messages/notification-types.ts';
import { dispatchMessage, type Fanout } from './dispatch-message.ts';

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const protocol = URL.parse(value)?.protocol;
  return protocol === 'http:' || protocol === 'https:';
}

export function sendMessageRoutes(app: HttpServer, runtime: Runtime, fanout: Fanout): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/notifications', {
      config: { callers: ['admin', 'service'], scope: 'notifications:write' },
      schema: {
        body: Type.Object({
          user_id: numericIdInteger,
          message: Type.String({ minLength: 1, maxLength: 2000 }),
          title: Type.Optional(Type.String({ maxLength: 200 })),
          type: Type.Optional(notificationTypeSchema),
          data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        }, { additionalProperties: false }),
        response: {
          201: Type.Object(notificationSchema.properties, { description: 'The notification it made in the recipient\'s inbox; email, push and webhook deliveries follow as the type and the recipient\'s preferences say.' }),
          202: Type.Object({
            object: Type.Literal('message'),
            type: Type.String({ description: 'The notification type sent.' }),
            in_app: Type.Literal(false, { description: 'No inbox notification was made (the type is not shown in the inbox, or the recipient switched it off there).' }),
            deliveries: Type.Integer({ minimum: 0, description: 'How many email, push and webhook deliveries were recorded.' }),
          }, { description: 'Accepted without an inbox notification: only the deliveries were recorded.' }),
          403: errorAnswer('The caller is not an admin or a service (forbidden), the token lacks notifications:write (insufficient_scope), or only services may send this type (type_reserved).'),
          404: errorAnswer('The recipient was deleted (recipient_not_found).'),
        },
      },
    }, async (request, reply) => {
      const { caller } = request;
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
      return reply.code(201).send(publicNotification(sent.notification));
    });
  });
}
