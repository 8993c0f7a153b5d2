// The pages the emailed links open: confirm an address, choose a new password, ask for a reset.
// A GET only shows a form; the POST it sends does the work, so a mail scanner that follows links
// uses up nothing. Plain HTML, no script, every value escaped.
import { escapeHtml, formPostOrigin, htmlPage, htmlPageHeaders } from '@paymesh/platform/html-page';
import type { FastifyReply } from 'fastify';
import type { HttpServer } from '@paymesh/platform/http-server';

/** A browser's form post gets a page back; an API client gets JSON. Media types ignore case and parameters (RFC 9110 §8.3.1). */
export const wantsPage = (contentType: string | undefined) => contentType?.split(';')[0]!.trim().toLowerCase() === 'application/x-www-form-urlencoded';

// These pages' forms answer with a page, never a redirect elsewhere: they may only post here.
const headers = htmlPageHeaders({ formAction: "'self'" });

export function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply.code(status).headers(headers).send(htmlPage(title, body));
}

/** Where the forms of these pages post. */
const formActions = new Set(['/users/verify-email', '/users/password-reset', '/users/password-reset/confirm']);

/**
 * The pages' form posts are refused from another origin, or `null` (a sandboxed frame, a page
 * under no-referrer), before anything is read: the emailed token in the form stays the real
 * protection, and API clients (no Origin) are not concerned. Whatever the Content-Type: a browser
 * may send these routes any body a form or fetch can make, and the route accepts more than one.
 */
export function refuseForeignFormPosts(app: HttpServer, publicUrl: string): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'POST' || !formActions.has(request.routeOptions.url ?? '')) return;
    if (formPostOrigin(request.headers.origin, publicUrl) !== 'foreign') return;
    return sendPage(reply, 403, 'Link not valid', failedPage('This form was not sent from a Paymesh page. Open the link from the email again.'));
  });
}

const alert = (error: string | undefined) => (error === undefined ? '' : `<p role="alert" id="error">${escapeHtml(error)}</p>`);

export function verifyEmailPage(token: string): string {
  return `<h1>Confirm your email address</h1>
<form method="post" action="/users/verify-email">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit">Confirm</button>
</form>`;
}

export function newPasswordPage(token: string, error?: string): string {
  return `<h1>Choose a new password</h1>
${alert(error)}
<form method="post" action="/users/password-reset/confirm"${error === undefined ? '' : ' aria-describedby="error"'}>
<input type="hidden" name="token" value="${escapeHtml(token)}">
<label for="new_password">New password (at least 8 characters)</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" required minlength="8" maxlength="1024" autofocus>
<button type="submit">Set the new password</button>
</form>`;
}

export function requestResetPage(): string {
  return `<h1>Reset your password</h1>
<form method="post" action="/users/password-reset">
<label for="email">Your account's email address</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" autofocus>
<button type="submit">Email me a link</button>
</form>`;
}

export function donePage(message: string): string {
  return `<h1>Done</h1><p>${escapeHtml(message)}</p>
<p><a href="/">Go to your Paymesh dashboard</a></p>`;
}

export function failedPage(message: string): string {
  return `<h1>That did not work</h1>${alert(message)}`;
}
