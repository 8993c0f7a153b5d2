// A delivery as stored and as the API shows it, and who may see it.
import { Type, type Static } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId, type Caller } from '@paymesh/platform/auth/caller';
import { sql, type SQL } from '@paymesh/platform/db/open-database';

export const deliveryChannelSchema = Type.Union([Type.Literal('email'), Type.Literal('push'), Type.Literal('webhook')]);
export const deliveryStatusSchema = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('dead'), Type.Literal('canceled')]);
/** What one attempt came to (delivery-outcome.ts's kinds; the table's check constraint). */
const attemptOutcomeSchema = Type.Union([Type.Literal('delivered'), Type.Literal('retry'), Type.Literal('failed'), Type.Literal('invalid_target'), Type.Literal('canceled')]);

export interface DeliveryRow {
  id: string;
  recipient_id: string;
  notification_id: string | null;
  type: string;
  channel: Static<typeof deliveryChannelSchema>;
  target_id: string | null;
  status: Static<typeof deliveryStatusSchema>;
  attempts: number;
  next_attempt_at: string | Date;
  last_error: string | null;
  created_at: string | Date;
  delivered_at: string | Date | null;
  seq: string;
  payload_erased?: boolean;
}

export interface AttemptRow { attempt: number; attempted_at: string | Date; outcome: Static<typeof attemptOutcomeSchema>; status_code: number | null; error: string | null; response: string | null; duration_ms: number }

/**
 * Who sees a delivery: email and push ones are their recipient's; a webhook delivery belongs to the
 * endpoint's owner (an admin's endpoint for every user is not the users' to inspect). Admins see all.
 */
export function visibleTo(caller: Caller): SQL {
  if (isAdmin(caller)) return sql`true`;
  const me = localUserId(caller);
  return sql`((d.channel <> 'webhook' and d.recipient_id = ${me})
    or (d.channel = 'webhook' and d.target_id in (select id from webhook_endpoints where owner_id = ${me})))`;
}

/** A delivery as the API shows it (publicDelivery), without its attempt log. */
export const deliverySchema = Type.Object({
  id: Type.String({ description: 'The delivery\'s id (`dlv_…`).' }),
  object: Type.Literal('delivery'),
  channel: deliveryChannelSchema,
  type: Type.String({ description: 'The notification type it delivers.' }),
  status: Type.Union(deliveryStatusSchema.anyOf, { description: '`pending` until it is delivered; `dead` when it failed for good (its retries ran out, a redelivery failed, or the target refused it outright): redeliver it by hand; `canceled` when nobody wants it any more (device removed, endpoint deleted or disabled, recipient deleted).' }),
  notification_id: Type.Union([Type.Integer(), Type.Null()], { description: 'The inbox notification it came with; null for a message without one.' }),
  device_id: Type.Optional(Type.String({ description: 'Push deliveries only: the device (`dev_…`).' })),
  webhook_endpoint_id: Type.Optional(Type.String({ description: 'Webhook deliveries only: the endpoint (`we_…`).' })),
  recipient_id: Type.Integer({ description: 'The user the message is for.' }),
  attempts: Type.Integer({ minimum: 0, description: 'Attempts made so far.' }),
  last_error: Type.Union([Type.String(), Type.Null()], { description: 'Why the last attempt failed; null when it did not.' }),
  next_attempt_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When a pending delivery is next tried; null unless pending.' }),
  created_at: Type.String({ format: 'date-time' }),
  delivered_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
}, { description: 'One delivery of a notification to one channel (an email, a device, a webhook endpoint).' });

/** One attempt of a delivery, as GET /notifications/deliveries/:id lists them. */
export const deliveryAttemptSchema = Type.Object({
  attempt: Type.Integer({ minimum: 1, description: 'Its number, from 1.' }),
  attempted_at: Type.String({ format: 'date-time' }),
  outcome: Type.Union(attemptOutcomeSchema.anyOf, { description: '`retry`: another attempt follows (unless the schedule ended); `failed`: it will never succeed as it is; `invalid_target`: the device token or subscription is gone (the device was removed).' }),
  status_code: Type.Union([Type.Integer(), Type.Null()], { description: 'The status the provider or receiver answered with, when it answered: HTTP for push and webhooks, the SMTP reply code for email.' }),
  error: Type.Union([Type.String(), Type.Null()]),
  response: Type.Union([Type.String(), Type.Null()], { description: 'The first 1,024 characters of what the provider or receiver answered, when it answered.' }),
  duration_ms: Type.Integer({ minimum: 0, description: 'How long the attempt took, in milliseconds.' }),
});

/** A delivery with its attempts, oldest first. */
export const deliveryWithAttemptsSchema = Type.Object({
  ...deliverySchema.properties,
  attempt_log: Type.Array(deliveryAttemptSchema),
}, { description: 'One delivery of a notification to one channel, with every attempt made.' });

export type PublicDelivery = Static<typeof deliverySchema>;

export function publicDelivery(row: DeliveryRow): PublicDelivery;
export function publicDelivery(row: DeliveryRow, attempts: AttemptRow[]): Static<typeof deliveryWithAttemptsSchema>;
export function publicDelivery(row: DeliveryRow, attempts?: AttemptRow[]): PublicDelivery & { attempt_log?: Static<typeof deliveryAttemptSchema>[] } {
  return {
    id: row.id,
    object: 'delivery',
    channel: row.channel,
    type: row.type,
    status: row.status,
    notification_id: row.notification_id === null ? null : Number(row.notification_id),
    // Push and webhook deliveries always have a target (dispatch-message.ts); email ones none.
    device_id: row.channel === 'push' ? row.target_id! : undefined,
    webhook_endpoint_id: row.channel === 'webhook' ? row.target_id! : undefined,
    recipient_id: Number(row.recipient_id),
    attempts: row.attempts,
    last_error: row.last_error,
    next_attempt_at: row.status === 'pending' ? new Date(row.next_attempt_at).toISOString() : null,
    created_at: new Date(row.created_at).toISOString(),
    delivered_at: row.delivered_at === null ? null : new Date(row.delivered_at).toISOString(),
    ...(attempts === undefined ? {} : {
      attempt_log: attempts.map((a) => ({
        attempt: a.attempt,
        attempted_at: new Date(a.attempted_at).toISOString(),
        outcome: a.outcome,
        status_code: a.status_code,
        error: a.error,
        response: a.response,
        duration_ms: a.duration_ms,
      })),
    }),
  };
}
