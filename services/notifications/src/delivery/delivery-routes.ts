// Delivery status per channel, through the API: the caller's deliveries (filters by channel,
// status, notification), one delivery with its attempt log, and a manual redeliver (one more
// attempt, for a dead delivery or to resend a delivered webhook).
import { Type } from '@fastify/type-provider-typebox';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import type { Caller } from '@paymesh/platform/auth/caller';
import { notificationsErrors } from '../errors.ts';
import { publicDelivery, visibleTo, type AttemptRow, type DeliveryRow } from './public-delivery.ts';
import { numericIdSchema, objectIdParams, objectIdSchema } from '@paymesh/platform/ids';
import { listOf, pageLimit, pageOf, pageQuery } from '@paymesh/platform/pagination';

const columns = sql`d.id, d.recipient_id, d.notification_id, d.type, d.channel, d.target_id, d.status, d.attempts, d.next_attempt_at,
  d.last_error, d.created_at, d.delivered_at, d.seq, d.payload is null as payload_erased`;

export async function findVisibleDelivery(db: Db, caller: Caller, id: string): Promise<DeliveryRow> {
  const [row] = await queryRows<DeliveryRow>(db, sql`select ${columns} from deliveries d where d.id = ${id} and ${visibleTo(caller)}`);
  if (row === undefined) throw notificationsErrors.deliveryNotFound();
  return row;
}

export const attemptsOf = (db: Db, id: string) =>
  queryRows<AttemptRow>(db, sql`select * from delivery_attempts where delivery_id = ${id} order by attempt`);

/** One page of deliveries, newest first, cursor on the delivery id. */
export async function listDeliveries(db: Db, caller: Caller, filter: ReturnType<typeof sql>, query: { limit?: string; starting_after?: string }) {
  const limit = pageLimit(query.limit, 20);
  let cursor = sql`true`;
  if (query.starting_after !== undefined) {
    const [found] = await queryRows<{ seq: string }>(db, sql`select d.seq from deliveries d where d.id = ${query.starting_after} and ${visibleTo(caller)}`);
    if (found === undefined) throw notificationsErrors.invalidCursor();
    cursor = sql`d.seq < ${found.seq}`;
  }
  const rows = await queryRows<DeliveryRow>(db, sql`select ${columns} from deliveries d
    where ${visibleTo(caller)} and ${filter} and ${cursor} order by d.seq desc limit ${limit + 1}`);
  const page = pageOf(rows, limit);
  return listOf(page.rows.map((r) => publicDelivery(r)), page.hasMore);
}

export const deliveryPageQuery = pageQuery(objectIdSchema);

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
      const filter = sql.join([
        q.channel === undefined ? sql`true` : sql`d.channel = ${q.channel}`,
        q.status === undefined ? sql`true` : sql`d.status = ${q.status}`,
        q.notification_id === undefined ? sql`true` : sql`d.notification_id = ${q.notification_id}`,
        q.recipient_id === undefined ? sql`true` : sql`d.recipient_id = ${q.recipient_id}`,
      ], sql` and `);
      return listDeliveries(db, request.caller, filter, q);
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
      const [updated] = await queryRows<DeliveryRow>(db, sql`update deliveries d set status = 'pending', next_attempt_at = now(), manual = true
        where d.id = ${row.id} and d.status <> 'pending' and d.payload is not null and (d.channel = 'webhook' or d.status <> 'delivered') returning ${columns}`);
      kickWorker();
      return reply.code(202).send(publicDelivery(updated ?? row));
    });
  });
}
