// The event types a webhook endpoint may subscribe to (the notification catalogue's types that carry
// no secret, services/notifications/src/webhooks/webhook-endpoint.ts), each with the sentence the
// dashboard shows beside its checkbox. `*` is every type, those to come included.
export const webhookEventTypes: readonly { readonly type: string; readonly label: string }[] = [
  { type: '*', label: 'Every event (those added later too)' },
  { type: 'payment.succeeded', label: 'A payment was received' },
  { type: 'payment.failed', label: 'A payment failed' },
  { type: 'refund.succeeded', label: 'A refund is on its way' },
  { type: 'account.registration_attempt', label: 'Someone tried to register with your email address' },
  { type: 'security.new_login', label: 'A new sign-in to your account' },
  { type: 'security.password_changed', label: 'Your password was changed' },
  { type: 'message', label: 'A message from the platform\'s operators' },
];

/** `payment.succeeded` → "A payment was received"; `*` → "Every event". */
export function eventTypeLabel(type: string): string {
  if (type === '*') return 'Every event';
  return webhookEventTypes.find((t) => t.type === type)?.label ?? type;
}
