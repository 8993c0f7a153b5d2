// A webhook endpoint as stored, and as the API shows it (the secret only when it was just made).
import { Type, type Static } from '@fastify/type-provider-typebox';
import { notificationTypes } from '../messages/notification-types.ts';

export interface EndpointRow {
  id: string; owner_id: string; all_users: boolean; url: string; event_types: string[]; description: string | null;
  secret: string; previous_secret_expires_at: string | Date | null; disabled: boolean; created_at: string | Date;
}

/** The event types a webhook may subscribe to: every catalogued type without a secret, or `*`. */
export const webhookEventTypes = ['*', ...notificationTypes.filter((t) => !t.secret).map((t) => t.type)];

/** A webhook endpoint as the API shows it, without its secret. */
export const webhookEndpointSchema = Type.Object({
  id: Type.String({ description: 'The endpoint\'s id (`we_…`).' }),
  object: Type.Literal('webhook_endpoint'),
  url: Type.String({ description: 'Where events are POSTed.' }),
  // Unsafe<string>: the catalogue's names are strings to TypeScript, not literals.
  event_types: Type.Array(Type.Unsafe<string>(Type.Union(webhookEventTypes.map((t) => Type.Literal(t)))), { description: 'The event types it receives; `*` for all of them.' }),
  description: Type.Union([Type.String(), Type.Null()]),
  all_users: Type.Boolean({ description: 'An admin\'s endpoint that receives every user\'s events, not only its owner\'s.' }),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')], { description: 'A disabled endpoint receives nothing: deliveries due to it are canceled.' }),
  previous_secret_expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'After a rotation, until when the previous secret signs too (each request carries one signature per live secret); null when only the current secret signs.' }),
  created_at: Type.String({ format: 'date-time' }),
}, { description: 'A webhook endpoint.' });

/** The same with the signing secret: only when it was just made (creation, rotation). */
export const webhookEndpointWithSecretSchema = Type.Object({
  ...webhookEndpointSchema.properties,
  secret: Type.String({ description: 'The signing secret (`whsec_…`), shown this once: keep it to verify Paymesh-Signature.' }),
}, { description: 'A webhook endpoint with its new signing secret, shown this once.' });

export type PublicEndpoint = Static<typeof webhookEndpointSchema>;

export function publicEndpoint(row: EndpointRow): PublicEndpoint;
export function publicEndpoint(row: EndpointRow, secret: string): Static<typeof webhookEndpointWithSecretSchema>;
export function publicEndpoint(row: EndpointRow, secret?: string): PublicEndpoint & { secret?: string } {
  return {
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
  };
}
