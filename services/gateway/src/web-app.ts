// The web dashboard (ADR 27) on the gateway: its page at `/` and at every path under /app (the
// app routes in the browser: /app/payments is a page, /payments the API), its bundle under
// /app/assets/<version>/ cached for good, the page itself `no-cache` so an upgrade is seen at once.
// The page runs no inline script: its settings are data- attributes its module reads.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from '@paymesh/platform/http-server';
import { escapeHtml } from '@paymesh/platform/html-page';
import { webAppClientId, webAppPath, webAppRedirectUri, webAppSignedOutUri } from '@paymesh/platform/web-app-client';
import type { WebAppBuild } from './build-web-app.ts';

export interface WebAppOptions {
  /** The public URL (PUBLIC_URL): the API, auth's issuer and the client's redirect URIs are under it. */
  readonly publicUrl: string;
  /** The resource (RFC 8707) the app's tokens are for: the platform-wide audience. */
  readonly resource: string;
  readonly scopes: readonly string[];
}

/** Scripts, styles and API calls to this origin only; no framing, no <base>, no form posted anywhere, no inline anything. */
export const webAppCsp = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'", "base-uri 'none'"].join('; ');

const contentTypes = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' } as const;

export function serveWebApp(app: HttpServer, build: WebAppBuild, options: WebAppOptions): void {
  const publicUrl = options.publicUrl.replace(/\/+$/, '');
  // Under the public URL's path, should the platform be served below its origin's root.
  const base = new URL(publicUrl).pathname.replace(/\/+$/, '');
  const assetUrl = (name: keyof typeof contentTypes) => `${base}${webAppPath}/assets/${build.version}/${name}`;
  const settings: Record<string, string> = {
    'data-issuer': `${publicUrl}/auth`,
    'data-client-id': webAppClientId,
    'data-redirect-uri': webAppRedirectUri(publicUrl),
    'data-signed-out-uri': webAppSignedOutUri(publicUrl),
    'data-resource': options.resource,
    'data-scopes': options.scopes.join(' '),
    'data-api-url': publicUrl,
  };
  const index = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Paymesh</title>
<link rel="stylesheet" href="${assetUrl('app.css')}">
<script type="module" src="${assetUrl('app.js')}"></script>
</head>
<body>
<div id="app" ${Object.entries(settings).map(([name, value]) => `${name}="${escapeHtml(value)}"`).join(' ')}>
<noscript><p>The Paymesh dashboard needs JavaScript. The API is documented at <a href="${escapeHtml(`${base}/docs`)}">/docs</a>.</p></noscript>
</div>
</body>
</html>
`;
  const sendIndex = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply.headers({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': webAppCsp,
      'x-frame-options': 'DENY',
      // Revalidated on every visit: it names the assets of this version, which change with it.
      'cache-control': 'no-cache',
      // The sign-in's code is in the redirect page's address: no Referer carries it anywhere.
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    }).send(index);
  app.get('/', { config: { public: true } }, sendIndex);
  app.get(webAppPath, { config: { public: true } }, sendIndex);
  app.get(`${webAppPath}/*`, { config: { public: true } }, sendIndex);
  app.get<{ Params: { version: string; name: string } }>(`${webAppPath}/assets/:version/:name`, { config: { public: true } }, async (request, reply) => {
    const name = request.params.name as keyof typeof contentTypes;
    const body = Object.hasOwn(contentTypes, name) ? build.files.get(name) : undefined;
    if (request.params.version !== build.version || body === undefined) return reply.callNotFound();
    return reply.headers({ 'content-type': contentTypes[name], 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' }).send(body);
  });
}
