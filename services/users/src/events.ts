// The events the users service publishes: its contracts with auth, payments and notifications,
// who import them from here (`@paymesh/users/events`, the only module of this service another
// may import). Ids only where the event outlives the account (outbox, stream): no personal data,
// except the address a link is mailed to.
import { Type } from 'typebox';
import { defineEvent } from '@paymesh/platform/events/define-event';

const producer = 'users';
const userId = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const role = Type.Union([Type.Literal('user'), Type.Literal('admin')]);

export const UserRegistered = defineEvent({
  subject: 'user.registered', version: 1, producer,
  description: 'An account was created (by registration or by an admin).',
  schema: Type.Object({ user_id: userId, role }),
});

export const UserUpdated = defineEvent({
  subject: 'user.updated', version: 1, producer,
  description: 'Fields of an account changed; `role` is the role after the change when an admin made it.',
  schema: Type.Object({
    user_id: userId,
    /** The fields that changed: `role`, `display_name`, `email`, `email_verified`, `pending_email` … */
    changes: Type.Array(Type.String()),
    role: Type.Optional(role),
  }),
});

export const UserDisabled = defineEvent({
  subject: 'user.disabled', version: 1, producer,
  description: 'An admin disabled the account: it may not sign in or pay until enabled.',
  schema: Type.Object({ user_id: userId }),
});

export const UserEnabled = defineEvent({
  subject: 'user.enabled', version: 1, producer,
  description: 'An admin enabled a disabled account again.',
  schema: Type.Object({ user_id: userId }),
});

export const UserDeleted = defineEvent({
  subject: 'user.deleted', version: 1, producer,
  description: 'The account was deleted: everything kept about the user elsewhere is erased.',
  schema: Type.Object({ user_id: userId }),
});

export const UserPasswordChanged = defineEvent({
  subject: 'user.password_changed', version: 1, producer,
  description: 'The password changed (a reset or the user): every session ends, the user is told.',
  schema: Type.Object({ user_id: userId }),
});

/** What a link event carries. `action_url` holds a single-use token: it only ever goes by email. */
const linkFields = {
  user_id: userId,
  /**
   * The address the link was made for: its email goes there and nowhere else. Optional because
   * events from before links named their address do not have it (notifications sends those nowhere).
   */
  email: Type.Optional(Type.String()),
  action_url: Type.String(),
  expires_at: Type.Optional(Type.String()),
};

export const UserEmailVerificationRequested = defineEvent({
  subject: 'user.email_verification_requested', version: 1, producer,
  description: 'A verification link was issued for an address (a new account, a changed address, a resend).',
  schema: Type.Object(linkFields),
});

export const UserPasswordResetRequested = defineEvent({
  subject: 'user.password_reset_requested', version: 1, producer,
  description: 'A password reset link was issued for the account\'s address.',
  schema: Type.Object(linkFields),
});

export const UserRegistrationAttempted = defineEvent({
  subject: 'user.registration_attempted', version: 1, producer,
  description: 'Someone tried to register with an address that already has an account (its owner is told, at most hourly).',
  schema: Type.Object({ user_id: userId, action_url: Type.String() }),
});
