// Webhook endpoints: users and admins register URLs for event types and get a signing secret (shown
// at creation and rotation only). Another user's endpoint id is 404. URLs on loopback or private
// networks are refused unless WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true.
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { deliveryPageQuery, listDeliveries } from '../delivery/list-deliveries.ts';
import { deliverySchema, deliveryStatusSchema, publicDelivery } from '../delivery/public-delivery.ts';
import { notificationsErrors } from '../errors.ts';
import { isCatalogued, notificationType } from '../messages/notification-types.ts';
import { noContent } from '@paymesh/platform/openapi/no-content';
import { publicEndpoint, webhookEndpointSchema, webhookEndpointWithSecretSchema } from './webhook-endpoint.ts';
import { createEndpoint, deleteEndpoint, endpointsOf, findEndpoint, rotateEndpointSecret, updateEndpoint } from './webhook-endpoint-store.ts';
import { newWebhookSecret } from './webhook-signature.ts';
import { objectIdParams } from '@paymesh/platform/ids';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import { listOf, listSchema } from '@paymesh/platform/pagination';

const endpointNotFound = errorAnswer('No such webhook endpoint of the caller\'s; an admin may name anyone\'s (webhook_endpoint_not_found).');

function checkEventTypes(types: readonly string[]): string[] {
  for (const t of types) if (t !== '*' && (!isCatalogued(t) || notificationType(t).secret)) throw notificationsErrors.unknownEventType(t);
  return [...new Set(types)];
}

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
        response: {
          201: webhookEndpointWithSecretSchema,
          400: errorAnswer('A parameter is missing, unknown or not valid (parameter_missing, parameter_unknown, parameter_invalid), an event type cannot be subscribed to (event_type_unknown), the URL is not a public http(s) address (url_not_allowed), or the caller has as many endpoints as allowed (too_many_webhook_endpoints).'),
          403: errorAnswer('The token lacks notifications:write (insufficient_scope), or all_users was asked by someone other than an admin (forbidden).'),
          404: errorAnswer('The caller was deleted (recipient_not_found).'),
        },
      },
    }, async (request, reply) => {
      const { caller } = request;
      const owner = localUserId(caller);
      if (request.body.all_users === true && !isAdmin(caller)) throw notificationsErrors.allUsersForbidden();
      const eventTypes = checkEventTypes(request.body.event_types);
      await checkUrl(request.body.url);
      const secret = newWebhookSecret();
      const row = await createEndpoint(db, { ownerId: owner, allUsers: request.body.all_users ?? false, url: request.body.url, eventTypes, description: request.body.description, secret });
      return reply.code(201).send(publicEndpoint(row, secret));
    });

    scope.get('/notifications/webhooks', {
      config: { scope: 'notifications:read' },
      schema: { response: { 200: listSchema(webhookEndpointSchema, 'The caller\'s own endpoints, newest first, all in one page (`has_more` is always false).') } },
    }, async (request) => {
      const rows = await endpointsOf(db, localUserId(request.caller));
      return listOf(rows.map((r) => publicEndpoint(r)), false);
    });

    scope.get('/notifications/webhooks/:id', {
      config: { scope: 'notifications:read' },
      schema: { params: objectIdParams, response: { 200: webhookEndpointSchema, 404: endpointNotFound } },
    }, async (request) => {
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
        response: {
          200: webhookEndpointSchema,
          400: errorAnswer('A parameter is missing, unknown or not valid (parameter_missing, parameter_unknown, parameter_invalid), an event type cannot be subscribed to (event_type_unknown), or the URL is not a public http(s) address (url_not_allowed).'),
          404: endpointNotFound,
        },
      },
    }, async (request) => {
      const b = request.body;
      const eventTypes = b.event_types === undefined ? undefined : checkEventTypes(b.event_types);
      if (b.url !== undefined) await checkUrl(b.url);
      return publicEndpoint(await updateEndpoint(db, request.caller, request.params.id, { url: b.url, eventTypes, description: b.description, disabled: b.disabled }));
    });

    scope.delete('/notifications/webhooks/:id', {
      config: { scope: 'notifications:write' },
      schema: { params: objectIdParams, response: { 204: noContent('Deleted: deliveries still due to it are canceled.'), 404: endpointNotFound } },
    }, async (request, reply) => {
      await deleteEndpoint(db, request.caller, request.params.id);
      return reply.code(204).send();
    });

    // The new secret signs from now on; the previous one keeps signing too until it expires, so
    // receivers can switch over without missing a delivery.
    scope.post('/notifications/webhooks/:id/rotate_secret', {
      config: { scope: 'notifications:write' },
      schema: {
        params: objectIdParams,
        body: Type.Optional(Type.Object({ expires_in: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400 })) }, { additionalProperties: false })),
        response: { 200: webhookEndpointWithSecretSchema, 404: endpointNotFound },
      },
    }, async (request) => {
      const overlapSec = request.body?.expires_in ?? 86_400;
      const secret = newWebhookSecret();
      return publicEndpoint(await rotateEndpointSecret(db, request.caller, request.params.id, secret, overlapSec), secret);
    });

    // The endpoint's delivery log, newest first; each delivery's attempts at /notifications/deliveries/:id.
    scope.get('/notifications/webhooks/:id/deliveries', {
      config: { scope: 'notifications:read' },
      schema: {
        params: objectIdParams,
        querystring: Type.Object({ ...deliveryPageQuery, status: Type.Optional(deliveryStatusSchema) }, { additionalProperties: false }),
        response: {
          200: listSchema(deliverySchema, 'The endpoint\'s deliveries, newest first.'),
          400: errorAnswer('A parameter is not valid (parameter_invalid, parameter_unknown), or starting_after is not a delivery of this list (parameter_invalid).'),
          404: endpointNotFound,
        },
      },
    }, async (request) => {
      const endpoint = await findEndpoint(db, request.caller, request.params.id);
      const page = await listDeliveries(db, request.caller, { channel: 'webhook', targetId: endpoint.id, status: request.query.status }, request.query);
      return listOf(page.rows.map((r) => publicDelivery(r)), page.hasMore);
    });
  });
}
