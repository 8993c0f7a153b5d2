// The pages the emailed links open: confirm an address, choose a new password, ask for a reset.
// A GET only shows a form; the POST it sends does the work, so a mail scanner that follows links
// uses up nothing. Plain HTML, no script, every value escaped.
import { escapeHtml, htmlPage } from '@paymesh/platform/html-page';
import type { FastifyReply } from 'fastify';

export function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  // The token is in this page's URL: never send it on as a Referer, never let the page be framed.
  return reply.code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(htmlPage(title, body));
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
  return `<h1>Done</h1><p>${escapeHtml(message)}</p>`;
}

export function failedPage(message: string): string {
  return `<h1>That did not work</h1>${alert(message)}`;
}
