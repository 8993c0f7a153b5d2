// The pages the emailed links open: confirm an address, choose a new password, ask for a reset.
// A GET only shows a form; the POST it sends does the work, so a mail scanner that follows links
// uses up nothing. Plain HTML, no script, every value escaped.
import type { FastifyReply } from 'fastify';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Paymesh</title>
<style>
body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#111}
label{display:block;margin-top:1rem;font-weight:600}
input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}
[role=alert]{color:#a00;margin-top:1rem}
:focus{outline:3px solid #36c;outline-offset:2px}
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

export function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  // The token is in this page's URL: never send it on as a Referer, never let the page be framed.
  return reply.code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .send(layout(title, body));
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
