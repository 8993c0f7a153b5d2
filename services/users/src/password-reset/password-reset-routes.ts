// Password reset. Asking always gets the same answer in the same time, whether or not an account
// has that address (no enumeration): the request only records the address, a job does the rest
// (reset-request-job.ts). The emailed link lasts 15 minutes and works once; using it sets the password,
// confirms the address (the link proved the mailbox) and announces user.password_changed, on which
// auth ends every session and refresh token of the user.
import { Type } from '@fastify/type-provider-typebox';
import { sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import { loginKey } from '@paymesh/platform/login-key';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { findUserById } from '../accounts/user.ts';
import { normalizeEmail } from '../accounts/validate-registration.ts';
import { hashPassword } from '../credentials/password-hash.ts';
import { usersErrors } from '../errors.ts';
import { donePage, failedPage, newPasswordPage, requestResetPage, sendPage, wantsPage } from '../pages/account-pages.ts';
import { checkNewPassword, maxPasswordLength } from '../passwords/check-password.ts';
import type { AccountThrottles } from '../throttle/account-throttles.ts';
import { useToken } from '../tokens/user-tokens.ts';
import { recordResetRequest, type ResetRequestJob } from './reset-request-job.ts';

const answer = { object: 'password_reset', message: 'If an account has this email address, a link to reset its password is on its way. It works once, for 15 minutes.' };

/** Sets a new password and announces it (auth then revokes every session and token of the user). */
export async function setPassword(tx: Db, userId: string, newPassword: string, options: { confirmEmail: boolean }): Promise<void> {
  const hash = await hashPassword(newPassword);
  await tx.execute(sql`update users set password_hash = ${hash}, updated_at = now(),
    email_verified_at = ${options.confirmEmail ? sql`coalesce(email_verified_at, now())` : sql`email_verified_at`} where id = ${userId}`);
  // Any other reset link still in a mailbox stops working, and so does an email change waiting for
  // its link: a new password is how an owner takes the account back, and must also take back
  // whatever address someone with the old one asked to move it to.
  await tx.execute(sql`update user_tokens set used_at = now() where user_id = ${userId} and purpose = 'password_reset' and used_at is null`);
  await tx.execute(sql`update user_tokens set used_at = now() where user_id = ${userId} and purpose = 'verify_email' and used_at is null
    and email is distinct from (select email from users where id = ${userId})`);
  await tx.execute(sql`update users set pending_email = null where id = ${userId}`);
  await enqueueEvent(tx, 'user.password_changed', { user_id: Number(userId) });
}

export function passwordResetRoutes(app: HttpServer, runtime: Runtime, job: ResetRequestJob, throttles: AccountThrottles): void {
  const { db } = runtime.database;

  app.get('/users/password-reset', async (_request, reply) => sendPage(reply, 200, 'Reset your password', requestResetPage()));

  app.post('/users/password-reset', { schema: { body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false }) } }, async (request, reply) => {
    const email = normalizeEmail(request.body.email);
    // One insert, whatever the address: the look-up runs in the job, after the response is sent.
    await recordResetRequest(db, email);
    reply.raw.once('finish', () => job.kick());
    if (wantsPage(request.headers['content-type'])) return sendPage(reply, 202, 'Check your email', donePage(answer.message));
    return reply.code(202).send(answer);
  });

  app.get('/users/password-reset/confirm', { schema: { querystring: Type.Object({ token: Type.String({ maxLength: 100 }) }) } }, async (request, reply) =>
    sendPage(reply, 200, 'Choose a new password', newPasswordPage(request.query.token)));

  app.post('/users/password-reset/confirm', {
    schema: { body: Type.Object({ token: Type.String({ maxLength: 100 }), new_password: Type.String({ maxLength: maxPasswordLength * 4 }) }, { additionalProperties: false }) },
  }, async (request, reply) => {
    const page = wantsPage(request.headers['content-type']);
    try {
      await throttles.heavy(() => db.transaction(async (tx) => {
        // Used in the same transaction as the new password: a refused password leaves the link usable.
        const used = await useToken(tx, request.body.token, 'password_reset');
        if (used === undefined) throw usersErrors.tokenInvalid();
        const user = await findUserById(tx, used.user_id, { forUpdate: true });
        // A disabled account is not asked for a link (see above), nor may one sent before it was
        // disabled set its password: the admin may have disabled it because the mailbox was taken.
        if (user === undefined || user.status !== 'active') throw usersErrors.tokenInvalid();
        // The link speaks for the mailbox it was sent to, and only while that is the account's.
        if (used.email === null || user.email === null || loginKey(used.email) !== loginKey(user.email)) throw usersErrors.tokenInvalid();
        checkNewPassword(request.body.new_password, { username: user.username, email: user.email, displayName: user.display_name, param: 'new_password' });
        await setPassword(tx, user.id, request.body.new_password, { confirmEmail: true });
      }));
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
    return { object: 'password_reset', reset: true };
  });
}
