// The few server-rendered pages (auth's sign-in, consent and logout pages, users' emailed-link
// pages) share one plain layout (accessible HTML, no script, every value escaped by the caller),
// one set of response headers, and one rule for where their form posts may come from.
import { createHash } from 'node:crypto';

export const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

// The web dashboard's look (services/gateway/web/index.css): its palette, type, card, fields and
// buttons, so the sign-in pages a person sees first look like the app they lead to.
const style = `:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
*{box-sizing:border-box}
body{margin:0;color:#1b1f24;background:#f6f7f9;line-height:1.5}
body::before{content:"Paymesh";display:block;padding:.75rem 1rem;background:#fff;border-bottom:1px solid #d5d9e0;font-weight:700;font-size:1.2rem}
main{max-width:28rem;margin:2rem auto;padding:1.25rem;background:#fff;border:1px solid #d5d9e0;border-radius:.5rem}
@media (max-width:30rem){main{margin:1rem .5rem}}
h1{margin-top:0}
a{color:#1d4ed8}
label{display:block;margin-top:1rem;font-weight:600}
input{display:block;width:100%;margin-top:.25rem;padding:.5rem;font:inherit;border:1px solid #6b7280;border-radius:.375rem;background:#fff;color:#1b1f24}
button{margin-top:1.25rem;margin-right:.5rem;font:inherit;padding:.45rem 1rem;border:1px solid #1d4ed8;border-radius:.375rem;background:#fff;color:#1d4ed8;cursor:pointer}
main>form:first-of-type button[type=submit],main>button:first-of-type{background:#1d4ed8;color:#fff}
[role=alert]{color:#a11a1a;margin-top:1rem}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}`;

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
