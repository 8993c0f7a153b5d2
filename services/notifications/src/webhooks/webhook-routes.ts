// Webhook endpoints: users and admins register URLs for event types and get a signing secret (shown
// at creation and rotation only). Another user's endpoint id is 404. URLs on loopback or private
// networks are refused unless WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true.
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId, type Caller } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { deliveryPageQuery, listDeliveries } from '../delivery/delivery-routes.ts';
import { notificationsErrors } from '../errors.ts';
import { isErased } from '../messages/erased-recipients.ts';
import { newId } from '../messages/new-id.ts';
import { isCatalogued, notificationType, notificationTypes } from '../messages/notification-types.ts';
import { newWebhookSecret } from './webhook-signature.ts';
import { objectIdParams } from '@paymesh/platform/ids';
import { listOf } from '@paymesh/platform/pagination';

const maxEndpointsPerOwner = 16;

interface EndpointRow {
  id: string; owner_id: string; all_users: boolean; url: string; event_types: string[]; description: string | null;
  secret: string; previous_secret_expires_at: string | Date | null; disabled: boolean; created_at: string | Date;
}

const publicEndpoint = (row: EndpointRow, secret?: string) => ({
  id: row.id,
  object: 'webhook_endpoint',
  url: row.url,
  event_types: row.event_types,
  description: row.description,
  all_users: row.all_users,
  status: row.disabled ? 'disabled' : 'enabled',
  previous_secret_expires_at: row.previous_secret_expires_at === null || new Date(row.previous_secret_expires_at) < new Date() ? null : new Date(row.previous_secret_expires_at).toISOString(),
  created_at: new Date(row.created_at).toISOString(),
  ...(secret === undefined ? {} : { secret }),
});

/** The event types a webhook may subscribe to: every catalogued type without a secret, or `*`. */
export const webhookEventTypes = ['*', ...notificationTypes.filter((t) => !t.secret).map((t) => t.type)];

function checkEventTypes(types: readonly string[]): string[] {
  for (const t of types) if (t !== '*' && (!isCatalogued(t) || notificationType(t).secret)) throw notificationsErrors.unknownEventType(t);
  return [...new Set(types)];
}

/** A text[] parameter (drizzle's sql expands a JS array into a list, not an array). */
const textArray = (values: readonly string[]) => sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

const eventTypesSchema = Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 50 });

export function webhookRoutes(app: HttpServer, runtime: Runtime, checkTarget: (url: string) => Promise<void>): void {
  const { db } = runtime.database;

  const checkUrl = async (url: string) => {
    try {
      await checkTarget(url);
    } catch (error) {
      throw notificationsErrors.webhookTargetRefused('url', (error as { reason?: string }).reason ?? 'it could not be checked; try again');
    }
  };
  /** The caller's own endpoint; an admin may act on anyone's. */
  const findEndpoint = async (tx: Db, caller: Caller, id: string, lock = false): Promise<EndpointRow> => {
    const owner = isAdmin(caller) ? sql`true` : sql`owner_id = ${localUserId(caller)}`;
    const [row] = await queryRows<EndpointRow>(tx, sql`select * from webhook_endpoints where id = ${id} and ${owner} ${lock ? sql`for update` : sql``}`);
    if (row === undefined) throw notificationsErrors.webhookEndpointNotFound();
    return row;
  };

  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/notifications/webhooks', {
      config: { scope: 'notifications:write' },
      schema: {
        body: Type.Object({
          url: Type.String({ minLength: 8, maxLength: 2048 }),
          event_types: eventTypesSchema,
          description: Type.Optional(Type.String({ maxLength: 500 })),
          all_users: Type.Optional(Type.Boolean()),
        }, { additionalProperties: false }),
      },
    }, async (request, reply) => {
      const { caller } = request;
      const owner = localUserId(caller);
      if (request.body.all_users === true && !isAdmin(caller)) throw notificationsErrors.allUsersForbidden();
      const eventTypes = checkEventTypes(request.body.event_types);
      await checkUrl(request.body.url);
      const secret = newWebhookSecret();
      const row = await db.transaction(async (tx) => {
        // A deleted user's token may live a few more seconds: nothing new is kept about them.
        if (await isErased(tx, owner)) throw notificationsErrors.recipientNotFound();
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('webhook_endpoints'), hashtext(${owner}))`);
        const [count] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from webhook_endpoints where owner_id = ${owner}`);
        if (count!.n >= maxEndpointsPerOwner) throw notificationsErrors.tooManyWebhookEndpoints(maxEndpointsPerOwner);
        const [inserted] = await queryRows<EndpointRow>(tx, sql`insert into webhook_endpoints (id, owner_id, all_users, url, event_types, description, secret)
          values (${newId('we')}, ${owner}, ${request.body.all_users ?? false}, ${request.body.url}, ${textArray(eventTypes)}, ${request.body.description ?? null}, ${secret}) returning *`);
        return inserted!;
      });
      return reply.code(201).send(publicEndpoint(row, secret));
    });

    scope.get('/notifications/webhooks', { config: { scope: 'notifications:read' } }, async (request) => {
      const rows = await queryRows<EndpointRow>(db, sql`select * from webhook_endpoints where owner_id = ${localUserId(request.caller)} order by created_at desc`);
      return listOf(rows.map((r) => publicEndpoint(r)), false);
    });

    scope.get('/notifications/webhooks/:id', { config: { scope: 'notifications:read' }, schema: { params: objectIdParams } }, async (request) => {
      return publicEndpoint(await findEndpoint(db, request.caller, request.params.id));
    });

    scope.patch('/notifications/webhooks/:id', {
      config: { scope: 'notifications:write' },
      schema: {
        params: objectIdParams,
        body: Type.Object({
          url: Type.Optional(Type.String({ minLength: 8, maxLength: 2048 })),
          event_types: Type.Optional(eventTypesSchema),
          description: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
          disabled: Type.Optional(Type.Boolean()),
        }, { additionalProperties: false, minProperties: 1 }),
      },
    }, async (request) => {
      const b = request.body;
      const eventTypes = b.event_types === undefined ? undefined : checkEventTypes(b.event_types);
      if (b.url !== undefined) await checkUrl(b.url);
      const row = await db.transaction(async (tx) => {
        const current = await findEndpoint(tx, request.caller, request.params.id, true);
        const [updated] = await queryRows<EndpointRow>(tx, sql`update webhook_endpoints set
          url = ${b.url ?? current.url}, event_types = ${textArray(eventTypes ?? current.event_types)},
          description = ${b.description === undefined ? current.description : b.description}, disabled = ${b.disabled ?? current.disabled}
          where id = ${current.id} returning *`);
        return updated!;
      });
      return publicEndpoint(row);
    });

    scope.delete('/notifications/webhooks/:id', { config: { scope: 'notifications:write' }, schema: { params: objectIdParams } }, async (request, reply) => {
      const endpoint = await findEndpoint(db, request.caller, request.params.id);
      await db.execute(sql`delete from webhook_endpoints where id = ${endpoint.id}`);
      return reply.code(204).send();
    });

    // The new secret signs from now on; the previous one keeps signing too until it expires, so
    // receivers can switch over without missing a delivery.
    scope.post('/notifications/webhooks/:id/rotate_secret', {
      config: { scope: 'notifications:write' },
      schema: { params: objectIdParams, body: Type.Optional(Type.Object({ expires_in: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400 })) }, { additionalProperties: false })) },
    }, async (request) => {
      const overlapSec = request.body?.expires_in ?? 86_400;
      const secret = newWebhookSecret();
      const row = await db.transaction(async (tx) => {
        const current = await findEndpoint(tx, request.caller, request.params.id, true);
        const [updated] = await queryRows<EndpointRow>(tx, sql`update webhook_endpoints set secret = ${secret}, previous_secret = ${overlapSec === 0 ? null : current.secret},
          previous_secret_expires_at = ${overlapSec === 0 ? null : sql`now() + ${`${overlapSec} seconds`}::interval`}
          where id = ${current.id} returning *`);
        return updated!;
      });
      return publicEndpoint(row, secret);
    });

    // The endpoint's delivery log, newest first; each delivery's attempts at /notifications/deliveries/:id.
    scope.get('/notifications/webhooks/:id/deliveries', {
      config: { scope: 'notifications:read' },
      schema: {
        params: objectIdParams,
        querystring: Type.Object({ ...deliveryPageQuery, status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead'), Type.Literal('canceled')])) }, { additionalProperties: false }),
      },
    }, async (request) => {
      const endpoint = await findEndpoint(db, request.caller, request.params.id);
      const status = request.query.status === undefined ? sql`true` : sql`d.status = ${request.query.status}`;
      return listDeliveries(db, request.caller, sql`d.channel = 'webhook' and d.target_id = ${endpoint.id} and ${status}`, request.query);
    });
  });
}
