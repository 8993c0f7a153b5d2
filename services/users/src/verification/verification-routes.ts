// Email verification: the link in the email opens a page (GET, harmless to prefetch) whose form
// POSTs the token; API clients POST it as JSON. A token confirms the address it was sent to
// (verify-email.ts); a signed-in user may ask for the link again (resend-verification-link.ts).
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import type { RegistrationContext } from '../accounts/create-user.ts';
import { donePage, failedPage, sendPage, verifyEmailPage, wantsPage } from '../pages/account-pages.ts';
import { resendVerificationLink } from './resend-verification-link.ts';
import { verifyEmail } from './verify-email.ts';

const tokenBody = Type.Object({ token: Type.String({ maxLength: 100 }) }, { additionalProperties: false });

const verified = Type.Object({
  object: Type.Literal('email_verification'),
  verified: Type.Literal(true),
  email: Type.String({ description: 'The address now confirmed, and the account\'s address from now on.' }),
}, { description: 'The address the link was sent to is confirmed. A form post (application/x-www-form-urlencoded) gets an HTML page instead, as does its refusal.' });

const linkRequested = Type.Object({
  object: Type.Literal('email_verification'),
  message: Type.String({ description: 'A sentence for a person.' }),
}, { description: 'A new link is sent if the account has an address to confirm (within the hourly limit of links per mailbox); the answer does not say whether it had.' });

export function verificationRoutes(app: HttpServer, runtime: Runtime, ctx: RegistrationContext): void {
  const { db } = runtime.database;

  app.get('/users/verify-email', { config: { public: true }, schema: { querystring: Type.Object({ token: Type.String({ maxLength: 100 }) }) } }, async (request, reply) =>
    sendPage(reply, 200, 'Confirm your email address', verifyEmailPage(request.query.token)));

  app.post('/users/verify-email', {
    config: { public: true },
    schema: {
      body: tokenBody,
      response: {
        200: verified,
        400: errorAnswer('The token is missing, or the link is invalid, expired, already used or outdated by a newer address (parameter_missing, parameter_unknown, parameter_invalid, token_invalid).'),
        409: errorAnswer('The new address was taken by another account meanwhile (email_taken).'),
      },
    },
  }, async (request, reply) => {
    const page = wantsPage(request.headers['content-type']);
    try {
      const { email } = await verifyEmail(db, request.body.token);
      if (page) return sendPage(reply, 200, 'Email address confirmed', donePage(`${email} is confirmed. You can close this page.`));
      return { object: 'email_verification', verified: true, email } as const;
    } catch (error) {
      // A browser gets a page for every refusal, not a JSON body: a dead link (400), or a new
      // address another account took meanwhile (409).
      const status = (error as { statusCode?: number }).statusCode;
      if (page && status === 400) return sendPage(reply, 400, 'Link not valid', failedPage((error as Error).message));
      if (page && status === 409) return sendPage(reply, 409, 'Address already in use', failedPage((error as Error).message));
      throw error;
    }
  });

  protectedRoutes(app, runtime.verify, (scope) => {
    // Sends the link again (to the address waiting for confirmation, or the unconfirmed current one).
    scope.post('/users/me/verify-email', {
      config: { scope: 'users:write' },
      schema: {
        response: {
          202: linkRequested,
          403: errorAnswer('The account is disabled, or the token names no Paymesh user (forbidden).'),
          404: errorAnswer('The account was deleted (user_not_found).'),
        },
      },
    }, async (request, reply) => {
      const userId = localUserId(request.caller);
      await resendVerificationLink(db, ctx, userId);
      return reply.code(202).send({ object: 'email_verification', message: 'If this account has an address to confirm, a new link is on its way.' });
    });
  });
}
