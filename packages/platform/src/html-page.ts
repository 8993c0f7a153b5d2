// The few server-rendered pages (auth's sign-in, consent and logout pages, users' emailed-link
// pages) share one plain layout (accessible HTML, no script, every value escaped by the caller),
// one set of response headers, and one rule for where their form posts may come from.
import { createHash } from 'node:crypto';

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const style = `body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#111}
label{display:block;margin-top:1rem;font-weight:600}
input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}
[role=alert]{color:#a00;margin-top:1rem}
:focus{outline:3px solid #36c;outline-offset:2px}`;

/**
 * Referer carries at most our origin, never a path or query: the emailed-link pages have a token
 * in their URL, the sign-in pages an interaction id. Unlike `no-referrer`, this policy still lets
 * the browser send a real `Origin` with the pages' form posts (under `no-referrer` Chromium sends
 * `Origin: null`, which the origin check must refuse).
 */
export const pageReferrerPolicy = 'strict-origin';

/** A whole page around `body` (already HTML); `title` is escaped here. */
export function htmlPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="${pageReferrerPolicy}">
<title>${escapeHtml(title)} · Paymesh</title>
<style>${style}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

const styleSource = `'sha256-${createHash('sha256').update(style).digest('base64')}'`;

/**
 * The headers of every HTML page the platform serves: a CSP allowing nothing but our one style
 * block (no script, nothing loaded, no framing, no <base>), the same refusal of framing for
 * browsers without CSP, never cached (pages hold CSRF tokens and emailed tokens), and the
 * referrer policy above.
 *
 * `formAction` limits where the page's forms may be sent. Leave it out for pages whose form
 * answers with a redirect to another origin (the sign-in, consent and logout forms end at the
 * app's redirect URI): Chromium applies form-action to every redirect after the submission.
 */
export function htmlPageHeaders(options: { formAction?: "'self'" } = {}) {
  const directives = ["default-src 'none'", `style-src ${styleSource}`, "frame-ancestors 'none'", "base-uri 'none'"];
  if (options.formAction !== undefined) directives.push(`form-action ${options.formAction}`);
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': directives.join('; '),
    'x-frame-options': 'DENY',
    'cache-control': 'no-store',
    'referrer-policy': pageReferrerPolicy,
  };
}

/**
 * Where a form post claims to come from, against the public origin of our pages: `own`, `absent`
 * (no Origin header: not a browser, or a very old one) or `foreign` (another site, or `null`, which
 * browsers send for opaque origins: sandboxed frames, data: URLs, pages under `no-referrer`).
 * A foreign origin is refused; an absent one is left to the form's secret (the CSRF token, the
 * emailed token), which is the real protection either way.
 */
export function formPostOrigin(origin: string | undefined, publicOrigin: string): 'own' | 'absent' | 'foreign' {
  if (origin === undefined) return 'absent';
  return origin === new URL(publicOrigin).origin ? 'own' : 'foreign';
}
