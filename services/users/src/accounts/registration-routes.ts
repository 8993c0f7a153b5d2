// Registration: the contract's POST /users/create_user (form or JSON, lenient as the Django form
// it replaces) and the REST POST /users (strict). Public: anyone may register.
import { Type } from '@fastify/type-provider-typebox';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer, formOrJson } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { checkNewPassword, maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import { register, type RegistrationContext } from './create-user.ts';
import { legacySuccessSchema } from './legacy-success-schema.ts';
import { validateRegistration, type Registration } from './validate-registration.ts';

/** The same answer whether the address was new or already had an account (see register). */
const registered = { object: 'registration', message: 'Check your email: follow the link we sent to confirm your address. You can log in now.' } as const;

const registeredSchema = Type.Object({
  object: Type.Literal('registration'),
  message: Type.String({ description: 'What to do next, for a person.' }),
}, { description: 'Registration accepted: the same answer whether the email address was new or already had an account (whose owner is then told by email).' });

/** What either registration may refuse, besides a malformed request. */
const registrationErrors = {
  400: errorAnswer('A field is missing, unknown (POST /users only) or not valid, or the password is too weak or too common (parameter_missing, parameter_unknown, parameter_invalid, login_not_normalized, password_too_weak, password_too_common).'),
  409: errorAnswer('The username is taken (identity_taken).'),
  429: errorAnswer('Too many registrations from this network or for this mailbox; Retry-After says when to try again (registration_rate_limited).'),
  503: errorAnswer('Too much password hashing under way; retry after Retry-After (service_busy).'),
};

// The REST registration is strict (unknown fields such as `role` are refused); create_user
// stays as lenient as the Django form it replaces, and ignores them.
const registration = Type.Object({
  username: Type.String({ maxLength: 64 }),
  email: Type.String({ maxLength: 254 }),
  password: Type.String({ maxLength: maxPasswordLength * 4 }),
}, { additionalProperties: false });

export function registrationRoutes(app: HttpServer, runtime: Runtime, ctx: RegistrationContext, throttles: AccountThrottles): void {
  /**
   * A registration: counted per client address and per mailbox before anything costly (the
   * strength estimate, argon2), then run within the gate that keeps such work from slowing logins.
   */
  const registerFrom = async (clientAddress: string, registration: Registration) => {
    await throttles.registration(clientAddress, registration.email);
    await throttles.heavy(async () => {
      checkNewPassword(registration.password, { username: registration.username, email: registration.email });
      await register(ctx, registration);
    });
  };

  // A taken email address answers like a new one (the contract fixes only this body).
  app.post('/users/create_user', { config: { public: true, documentedBody: { schema: { ...registration, additionalProperties: true, description: 'A form post (as the Django form it replaces took it) or JSON; other fields are ignored.' }, consumes: formOrJson } }, schema: { response: { 200: legacySuccessSchema, ...registrationErrors } } }, async (request) => {
    await registerFrom(request.ip, validateRegistration(request.body));
    return { success: true, message: 'User created successfully' } as const;
  });

  app.post('/users', { config: { public: true }, schema: { body: registration, response: { 202: registeredSchema, ...registrationErrors } } }, async (request, reply) => {
    await registerFrom(request.ip, validateRegistration(request.body));
    return reply.code(202).send(registered);
  });
}
