// Password reset. Asking always gets the same answer in the same time, whether or not an account
// has that address (no enumeration): the request only records the address, a job does the rest
// (reset-request-job.ts). The emailed link lasts 15 minutes and works once; using it sets the password,
// confirms the address (the link proved the mailbox) and announces user.password_changed, on which
// auth ends every session and refresh token of the user.
import { Type } from '@fastify/type-provider-typebox';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import { normalizeEmail } from '../accounts/validate-registration.ts';
import { donePage, failedPage, newPasswordPage, requestResetPage, sendPage, wantsPage } from '../pages/account-pages.ts';
import { maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import { confirmPasswordReset } from './confirm-password-reset.ts';
import { recordResetRequest, type ResetRequestJob } from './reset-request-job.ts';

const answer = { object: 'password_reset', message: 'If an account has this email address, a link to reset its password is on its way. It works once, for 15 minutes.' } as const;

const requested = Type.Object({
  object: Type.Literal('password_reset'),
  message: Type.String({ description: 'A sentence for a person.' }),
}, { description: 'The request is recorded: the same answer whether or not an account has this address. A form post (application/x-www-form-urlencoded) gets an HTML page instead.' });

const reset = Type.Object({
  object: Type.Literal('password_reset'),
  reset: Type.Literal(true),
}, { description: 'The password is set and the address confirmed; every session and refresh token of the user ends. A form post (application/x-www-form-urlencoded) gets an HTML page instead, as does its refusal.' });

export function passwordResetRoutes(app: HttpServer, runtime: Runtime, job: ResetRequestJob, throttles: AccountThrottles): void {
  const { db } = runtime.database;

  app.get('/users/password-reset', { config: { public: true } }, async (_request, reply) => sendPage(reply, 200, 'Reset your password', requestResetPage()));

  app.post('/users/password-reset', {
    config: { public: true },
    schema: {
      body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false }),
      response: { 202: requested, 400: errorAnswer('The email address is missing or not valid (parameter_missing, parameter_unknown, parameter_invalid, login_not_normalized).') },
    },
  }, async (request, reply) => {
    const email = normalizeEmail(request.body.email);
    // One insert, whatever the address: the look-up runs in the job, after the response is sent.
    await recordResetRequest(db, email);
    reply.raw.once('finish', () => job.kick());
    if (wantsPage(request.headers['content-type'])) return sendPage(reply, 202, 'Check your email', donePage(answer.message));
    return reply.code(202).send(answer);
  });

  app.get('/users/password-reset/confirm', { config: { public: true }, schema: { querystring: Type.Object({ token: Type.String({ maxLength: 100 }) }) } }, async (request, reply) =>
    sendPage(reply, 200, 'Choose a new password', newPasswordPage(request.query.token)));

  app.post('/users/password-reset/confirm', {
    config: { public: true },
    schema: {
      body: Type.Object({ token: Type.String({ maxLength: 100 }), new_password: Type.String({ maxLength: maxPasswordLength * 4 }) }, { additionalProperties: false }),
      response: {
        200: reset,
        400: errorAnswer('A field is missing, unknown or not valid, the link is invalid, expired or already used, or the new password is too weak or too common (parameter_missing, parameter_unknown, parameter_invalid, token_invalid, password_too_weak, password_too_common).'),
        503: errorAnswer('Too much password hashing under way; retry after Retry-After (service_busy).'),
      },
    },
  }, async (request, reply) => {
    const page = wantsPage(request.headers['content-type']);
    try {
      await throttles.heavy(() => confirmPasswordReset(db, request.body.token, request.body.new_password));
    } catch (error) {
      if (page && (error as { statusCode?: number }).statusCode === 400) {
        const code = (error as { code?: string }).code;
        // A password the rules refuse: the same form again, with why; a dead link: a dead end.
        if (code === 'token_invalid') return sendPage(reply, 400, 'Link not valid', failedPage((error as Error).message));
        return sendPage(reply, 400, 'Choose a new password', newPasswordPage(request.body.token, (error as Error).message));
      }
      throw error;
    }
    if (page) return sendPage(reply, 200, 'Password changed', donePage('Your password was changed and every session was signed out. Log in with the new password.'));
    return { object: 'password_reset', reset: true } as const;
  });
}
