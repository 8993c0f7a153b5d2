// The events the auth service publishes. Other services import them from here
// (`@paymesh/auth/events`, the only module of this service another may import).
import { Type } from 'typebox';
import { defineEvent } from '@paymesh/platform/events/define-event';

// Every service's revocation list follows it, so its contract lives in the platform (which may not
// import a service); auth is its producer.
export { TokenRevoked } from '@paymesh/platform/auth/token-revoked';

/**
 * Under `user.` because it is about the user's account (notifications tells them), though auth is
 * the one that sees sign-ins.
 */
export const UserNewLogin = defineEvent({
  subject: 'user.new_login', version: 1, producer: 'auth',
  description: 'The account signed in with its password from a device and an address it had not signed in from before (throttle/login-throttle.ts): the user is told, in case it was not them.',
  schema: Type.Object({
    user_id: Type.Integer({ minimum: 1 }),
    ip: Type.Optional(Type.String()),
    user_agent: Type.Optional(Type.String()),
  }),
});
