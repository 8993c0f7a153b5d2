// Email verification: the link in the email opens a page (GET, harmless to prefetch) whose form
// POSTs the token; API clients POST it as JSON. A token confirms the address it was sent to: the
// account's own, or a new one waiting in pending_email, which then replaces it.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import { loginKey } from '@paymesh/platform/login-key';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { isUniqueViolation, requestEmailVerification, type RegistrationContext } from '../accounts/create-user.ts';
import { activeAccount, findUserById } from '../accounts/user.ts';
import { usersErrors } from '../errors.ts';
import { donePage, failedPage, sendPage, verifyEmailPage, wantsPage } from '../pages/account-pages.ts';
import { tokensIssuedSince, useToken } from '../tokens/user-tokens.ts';

const tokenBody = Type.Object({ token: Type.String({ maxLength: 100 }) }, { additionalProperties: false });

/** Verification links one account may have sent in an hour (resends and email changes alike): nobody can use us to flood a mailbox. */
export const verificationLinksPerHour = 5;

async function verify(db: Db, token: string): Promise<{ userId: string; email: string }> {
  try {
    return await db.transaction(async (tx) => {
      const used = await useToken(tx, token, 'verify_email');
      if (used === undefined || used.email === null) throw usersErrors.tokenInvalid();
      const user = await findUserById(tx, used.user_id, { forUpdate: true });
      // A disabled account's links wait (or die) with it: confirming an address is an account change.
      if (user === undefined || user.status !== 'active') throw usersErrors.tokenInvalid();
      const sameAddress = (a: string | null) => a !== null && a.toLowerCase() === used.email!.toLowerCase();
      if (sameAddress(user.pending_email)) {
        await tx.execute(sql`update users set email = pending_email, email_key = ${loginKey(user.pending_email!)}, pending_email = null, email_verified_at = now(), updated_at = now() where id = ${user.id}`);
        // Reset links went to the address given up: its mailbox no longer speaks for the account.
        await tx.execute(sql`update user_tokens set used_at = now() where user_id = ${user.id} and purpose = 'password_reset' and used_at is null`);
        await enqueueEvent(tx, 'user.updated', { user_id: Number(user.id), changes: ['email', 'email_verified'] });
      } else if (sameAddress(user.email)) {
        await tx.execute(sql`update users set email_verified_at = coalesce(email_verified_at, now()), updated_at = now() where id = ${user.id}`);
        if (user.email_verified_at === null) await enqueueEvent(tx, 'user.updated', { user_id: Number(user.id), changes: ['email_verified'] });
      } else {
        // The account's address changed since this link was sent: it confirms nothing any more.
        throw usersErrors.tokenInvalid();
      }
      return { userId: user.id, email: used.email! };
    });
  } catch (error) {
    // The new address was taken by another account meanwhile (the unique index decides).
    if (isUniqueViolation(error)) throw usersErrors.emailTaken();
    throw error;
  }
}

export function verificationRoutes(app: HttpServer, runtime: Runtime, ctx: RegistrationContext): void {
  const { db } = runtime.database;

  app.get('/users/verify-email', { schema: { querystring: Type.Object({ token: Type.String({ maxLength: 100 }) }) } }, async (request, reply) =>
    sendPage(reply, 200, 'Confirm your email address', verifyEmailPage(request.query.token)));

  app.post('/users/verify-email', { schema: { body: tokenBody } }, async (request, reply) => {
    const page = wantsPage(request.headers['content-type']);
    try {
      const { email } = await verify(db, request.body.token);
      if (page) return sendPage(reply, 200, 'Email address confirmed', donePage(`${email} is confirmed. You can close this page.`));
      return { object: 'email_verification', verified: true, email };
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
    scope.post('/users/me/verify-email', async (request, reply) => {
      const userId = localUserId(request.caller);
      await db.transaction(async (tx) => {
        const user = activeAccount(await findUserById(tx, userId, { forUpdate: true }));
        const address = user.pending_email ?? (user.email_verified_at === null ? user.email : null);
        if (address === null || (await tokensIssuedSince(tx, userId, 'verify_email', 3600)) >= verificationLinksPerHour) return;
        await requestEmailVerification(tx, ctx, userId, address);
      });
      return reply.code(202).send({ object: 'email_verification', message: 'If this account has an address to confirm, a new link is on its way.' });
    });
  });
}
