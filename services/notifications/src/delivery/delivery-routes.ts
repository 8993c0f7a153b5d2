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
import { publicDelivery } from './public-delivery.ts';
import { numericIdSchema, objectIdParams } from '@paymesh/platform/ids';
import { listOf } from '@paymesh/platform/pagination';

export function deliveryRoutes(app: HttpServer, runtime: Runtime, kickWorker: () => void): void {
  const { db } = runtime.database;
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.get('/notifications/deliveries', {
      config: { scope: 'notifications:read' },
      schema: {
        querystring: Type.Object({
          ...deliveryPageQuery,
          channel: Type.Optional(Type.Union([Type.Literal('email'), Type.Literal('push'), Type.Literal('webhook')])),
          status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead'), Type.Literal('canceled')])),
          notification_id: Type.Optional(numericIdSchema),
          recipient_id: Type.Optional(numericIdSchema),
        }, { additionalProperties: false }),
      },
    }, async (request) => {
      const q = request.query;
      // recipient_id filters among what the caller may see anyway: for a user, their own.
      const page = await listDeliveries(db, request.caller, { channel: q.channel, status: q.status, notificationId: q.notification_id, recipientId: q.recipient_id }, q);
      return listOf(page.rows.map((r) => publicDelivery(r)), page.hasMore);
    });

    scope.get('/notifications/deliveries/:id', { config: { scope: 'notifications:read' }, schema: { params: objectIdParams } }, async (request) => {
      const row = await findVisibleDelivery(db, request.caller, request.params.id);
      return publicDelivery(row, await attemptsOf(db, row.id));
    });

    scope.post('/notifications/deliveries/:id/redeliver', { config: { scope: 'notifications:write' }, schema: { params: objectIdParams } }, async (request, reply) => {
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
