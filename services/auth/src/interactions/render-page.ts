// The server-rendered pages of the authorization flow: login and consent. Plain, accessible HTML
// (labels, autocomplete, an alert region for errors, no script), every value escaped.
import { escapeHtml, htmlPage } from '@paymesh/platform/html-page';
import { scopeSentences } from '../oidc/scopes.ts';

export function loginPage(options: { action: string; csrf: string; clientName: string; username?: string; error?: string }): string {
  return htmlPage('Sign in', `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(options.clientName)}</strong></p>
${options.error === undefined ? '' : `<p role="alert" id="error">${escapeHtml(options.error)}</p>`}
<form method="post" action="${escapeHtml(options.action)}" autocomplete="on"${options.error === undefined ? '' : ' aria-describedby="error"'}>
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<label for="username">Username or email</label>
<input id="username" name="username" type="text" autocomplete="username" required maxlength="254" value="${escapeHtml(options.username ?? '')}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit">Sign in</button>
</form>`);
}

export function consentPage(options: { action: string; abortAction: string; csrf: string; clientName: string; scopes: string[] }): string {
  return htmlPage('Allow access', `<h1>Allow access</h1>
<p><strong>${escapeHtml(options.clientName)}</strong> asks to:</p>
<ul>${options.scopes.map((s) => `<li>${scopeSentences.has(s) ? `${escapeHtml(scopeSentences.get(s)!)} ` : ''}<code>${escapeHtml(s)}</code></li>`).join('')}</ul>
<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<button type="submit">Allow</button>
</form>
<form method="post" action="${escapeHtml(options.abortAction)}">
<input type="hidden" name="csrf" value="${escapeHtml(options.csrf)}">
<button type="submit">Deny</button>
</form>`);
}

/** The RP-initiated logout confirmation; `providerForm` is oidc-provider's form (with its xsrf token). */
export function logoutPage(providerForm: string): string {
  return htmlPage('Sign out', `<h1>Sign out?</h1>
<p>You will be signed out of Paymesh and of the apps you signed in to with it.</p>
${providerForm}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`);
}

export function signedOutPage(): string {
  return htmlPage('Signed out', '<h1>Signed out</h1><p>You are signed out of Paymesh.</p>');
}

export function errorPage(message: string): string {
  return htmlPage('Sign-in problem', `<h1>Sign-in problem</h1><p role="alert">${escapeHtml(message)}</p>`);
}
