// Delivery status per channel, through the API: the caller's deliveries (filters by channel,
// status, notification), one delivery with its attempt log, and a manual redeliver (one more
// attempt, for a dead delivery or to resend a delivered webhook).
import { Type } from '@fastify/type-provider-typebox';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { notificationsErrors } from '../errors.ts';
import { attemptsOf, findVisibleDelivery, requeueDelivery } from './delivery-store.ts';
import { deliveryPageQuery, listDeliveries } from './list-deliveries.ts';
import { deliveryChannelSchema, deliverySchema, deliveryStatusSchema, deliveryWithAttemptsSchema, publicDelivery } from './public-delivery.ts';
import { numericIdSchema, objectIdParams } from '@paymesh/platform/ids';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import { listOf, listSchema } from '@paymesh/platform/pagination';

const deliveryNotFound = errorAnswer('No such delivery the caller may see (delivery_not_found).');

export function deliveryRoutes(app: HttpServer, runtime: Runtime, kickWorker: () => void): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/notifications/deliveries', {
      config: { scope: 'notifications:read' },
      schema: {
        querystring: Type.Object({
          ...deliveryPageQuery,
          channel: Type.Optional(deliveryChannelSchema),
          status: Type.Optional(deliveryStatusSchema),
          notification_id: Type.Optional(numericIdSchema),
          recipient_id: Type.Optional(numericIdSchema),
        }, { additionalProperties: false }),
        response: {
          200: listSchema(deliverySchema, 'The deliveries the caller may see, newest first: a user\'s own emails and pushes and their endpoints\' webhooks; an admin\'s, all.'),
          400: errorAnswer('A parameter is not valid (parameter_invalid, parameter_unknown), or starting_after is not a delivery of this list (parameter_invalid).'),
        },
      },
    }, async (request) => {
      const q = request.query;
      // recipient_id filters among what the caller may see anyway: for a user, their own.
      const page = await listDeliveries(db, request.caller, { channel: q.channel, status: q.status, notificationId: q.notification_id, recipientId: q.recipient_id }, q);
      return listOf(page.rows.map((r) => publicDelivery(r)), page.hasMore);
    });

    scope.get('/notifications/deliveries/:id', {
      config: { scope: 'notifications:read' },
      schema: { params: objectIdParams, response: { 200: deliveryWithAttemptsSchema, 404: deliveryNotFound } },
    }, async (request) => {
      const row = await findVisibleDelivery(db, request.caller, request.params.id);
      return publicDelivery(row, await attemptsOf(db, row.id));
    });

    scope.post('/notifications/deliveries/:id/redeliver', {
      config: { scope: 'notifications:write' },
      schema: {
        params: objectIdParams,
        response: {
          202: Type.Object(deliverySchema.properties, { description: 'Queued for one more attempt, now (`pending`); a delivery already pending is answered as it is.' }),
          404: deliveryNotFound,
          409: errorAnswer('An email or push that was delivered is not sent again (delivery_already_delivered), or the delivery\'s content was erased (delivery_not_redeliverable).'),
        },
      },
    }, async (request, reply) => {
      const row = await findVisibleDelivery(db, request.caller, request.params.id);
      if (row.payload_erased === true) throw notificationsErrors.deliveryNotRedeliverable();
      // A delivered webhook may be resent (a receiver that lost it); a delivered email or push would
      // only reach the person twice.
      if (row.status === 'delivered' && row.channel !== 'webhook') throw notificationsErrors.alreadyDelivered();
      const updated = await requeueDelivery(db, row.id);
      kickWorker();
      return reply.code(202).send(publicDelivery(updated ?? row));
    });
  });
}
