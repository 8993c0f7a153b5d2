// What a webhook receiver gets, for the OpenAPI document's `webhooks` section: one entry per
// event type an endpoint can subscribe to (the catalogue's types that are not secret), each a POST
// of the event object (dispatch-message.ts builds it) signed in Paymesh-Signature
// (webhook-signature.ts). A receiver answers 2xx within the timeout, or the delivery is retried.
import { notificationTypes } from '../messages/notification-types.ts';

const eventSchema = (type: string) => ({
  type: 'object',
  required: ['id', 'object', 'type', 'created', 'data'],
  properties: {
    id: { type: 'string', pattern: '^evt_', description: 'The event id, the same at every endpoint and on every retry: drop duplicates by it.' },
    object: { type: 'string', const: 'event' },
    type: { type: 'string', const: type },
    created: { type: 'integer', description: 'Unix seconds when the event was made.' },
    data: {
      type: 'object',
      required: ['user_id', 'notification_id', 'title', 'message'],
      properties: {
        user_id: { type: 'integer', description: 'The user the event is about.' },
        notification_id: { type: ['integer', 'null'], description: 'The inbox notification it also made, if any.' },
        title: { type: ['string', 'null'] },
        message: { type: 'string' },
      },
      additionalProperties: true,
      description: 'These four fields, and the event\'s own details (a payment\'s id and amount …), which never override them.',
    },
  },
});

/** The `webhooks` section: `payment.succeeded` → a POST to the receiver's URL. */
export function webhookDescriptions(): Record<string, unknown> {
  return Object.fromEntries(notificationTypes.filter((t) => !t.secret).map((t) => [t.type, {
    post: {
      operationId: `on${t.type.split(/[._]/).map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`,
      summary: `${t.type}: ${t.description}`,
      description: 'Sent to each webhook endpoint subscribed to this type (or to `*`) whose owner it concerns. Verify Paymesh-Signature before trusting the body; answer 2xx quickly.',
      tags: ['Webhooks'],
      // No bearer token: the receiver knows the request is ours by its signature.
      security: [],
      parameters: [
        { in: 'header', name: 'Paymesh-Signature', required: true, schema: { type: 'string', pattern: '^t=\\d+(,v1=[0-9a-f]{64})+$' }, description: '`t=<unix seconds>,v1=<hex HMAC-SHA256(endpoint secret, "<t>.<raw body>")>`, one v1 per live secret (two during a rotation). Refuse a timestamp older than your tolerance (5 minutes) and compare in constant time.' },
        { in: 'header', name: 'Paymesh-Event-Id', required: true, schema: { type: 'string' }, description: 'The event id, as in the body.' },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: eventSchema(t.type) } } },
      responses: {
        '200': { description: 'Received. Any 2xx counts; anything else, a timeout or a refused connection is retried with growing delays until the schedule ends, then the delivery is dead (redeliver it by the API).' },
      },
    },
  }]));
}
