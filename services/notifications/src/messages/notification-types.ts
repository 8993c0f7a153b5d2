// The catalogue of notification types: which channels each may use, what a user gets unless they
// chose otherwise, and which are security messages that nobody can switch off.
import { Type } from '@fastify/type-provider-typebox';

/** A type's name as requests give it (`payment.succeeded`, `message`, a custom one). */
export const notificationTypeSchema = Type.String({ pattern: '^[a-z][a-z0-9_.]{0,63}$' });

export const channels = ['in_app', 'email', 'push'] as const;
export type Channel = (typeof channels)[number];

export interface NotificationType {
  readonly type: string;
  readonly description: string;
  /** The channels this type is sent on, each on unless the user switched it off. */
  readonly channels: readonly Channel[];
  /** Security messages: always sent on all their channels; preferences cannot change them. */
  readonly locked: boolean;
  /** Only services may send it through POST /notifications (it carries a link users must trust). */
  readonly servicesOnly: boolean;
  /** Its data holds a secret (a single-use link): never sent to webhooks, erased once delivered. */
  readonly secret: boolean;
}

const type = (t: string, description: string, options: Partial<Omit<NotificationType, 'type' | 'description'>> = {}): NotificationType => ({
  type: t,
  description,
  channels: options.channels ?? ['in_app', 'email', 'push'],
  locked: options.locked ?? false,
  servicesOnly: options.servicesOnly ?? false,
  secret: options.secret ?? false,
});

export const notificationTypes: readonly NotificationType[] = [
  type('payment.succeeded', 'A payment of yours was received.'),
  type('payment.failed', 'A payment of yours failed.'),
  type('refund.succeeded', 'A refund is on its way to you.'),
  type('account.verify_email', 'Confirm your email address (a single-use link).', { channels: ['email'], locked: true, servicesOnly: true, secret: true }),
  type('account.password_reset', 'Reset your password (a single-use link).', { channels: ['email'], locked: true, servicesOnly: true, secret: true }),
  type('account.registration_attempt', 'Someone tried to register with your email address.', { channels: ['email'], locked: true, servicesOnly: true }),
  type('security.new_login', 'A new sign-in to your account.', { locked: true, servicesOnly: true }),
  type('security.password_changed', 'Your password was changed.', { channels: ['in_app', 'email'], locked: true, servicesOnly: true }),
  type('message', 'A message from the platform\'s operators.', { channels: ['in_app', 'push'] }),
];

const byType = new Map(notificationTypes.map((t) => [t.type, t]));

/** Types outside the catalogue (sent by admins and services) go to the inbox and push like `message`. */
export function notificationType(name: string): NotificationType {
  return byType.get(name) ?? { ...byType.get('message')!, type: name, description: 'Custom message.' };
}

export function isCatalogued(name: string): boolean {
  return byType.has(name);
}
