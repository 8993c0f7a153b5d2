// The API reference site at GET /docs (ADR 26): Swagger UI on the merged document (/openapi.json),
// every file served from here (nothing is loaded from elsewhere), signing a person in with auth's
// built-in client `paymesh-docs` (authorization code with PKCE) for its "try it" requests.
// The page runs no inline script: Swagger UI is started by a static file reading the page's data-
// attributes, so the CSP allows scripts from this origin alone. Swagger UI keeps the token in
// memory (persistAuthorization stays off): nothing of it is left in the browser's storage.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { apiReferencePath, apiReferenceRedirectPath, apiReferenceRedirectUri, apiReferenceClientId } from '@paymesh/platform/api-reference-client';
import { escapeHtml } from '@paymesh/platform/html-page';
import type { HttpServer } from '@paymesh/platform/http-server';

export interface ApiReferenceOptions {
  /** The public URL (PUBLIC_URL): the redirect URI auth registered is under it. */
  readonly publicUrl: string;
  /** Where the gateway serves the merged document. */
  readonly documentPath: string;
  /** The resource (RFC 8707) the site's tokens are for: the platform-wide audience. */
  readonly resource: string;
  /** The scopes ticked in the Authorize dialog at first. */
  readonly scopes: readonly string[];
}

/**
 * The page's policy: scripts, styles and the document from this origin, the images Swagger UI's
 * stylesheet inlines as data: URLs, nothing else; no framing, no <base>, no form sent anywhere
 * (Swagger UI sends requests with fetch). No 'unsafe-inline' and no 'unsafe-eval'.
 */
export const apiReferenceCsp = ["default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'", "form-action 'none'", "frame-ancestors 'none'", "base-uri 'none'"].join('; ');

/** The redirect page runs its one script file and nothing else. */
export const apiReferenceRedirectCsp = ["default-src 'none'", "script-src 'self'", "form-action 'none'", "frame-ancestors 'none'", "base-uri 'none'"].join('; ');

const contentTypes: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

/** Swagger UI's files (swagger-ui-dist, without their source map comments: the maps are not served) and ours. */
function loadAssets(): Map<string, Asset> {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const own = resolve(import.meta.dirname, '../static');
  const files: [name: string, folder: string][] = [
    ['swagger-ui-bundle.js', dist],
    ['swagger-ui.css', dist],
    ['oauth2-redirect.js', dist],
    ['favicon-32x32.png', dist],
    ['api-reference.js', own],
    ['api-reference.css', own],
  ];
  return new Map(files.map(([name, folder]) => {
    const type = contentTypes[extname(name)]!;
    let body = readFileSync(join(folder, name));
    if (type.startsWith('text/')) body = Buffer.from(body.toString('utf8').replace(/\n?\/[/*]# sourceMappingURL=\S+(\s*\*\/)?\s*$/, '\n'));
    return [name, { body, type }];
  }));
}

function pageHeaders(csp: string, referrerPolicy: string) {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    // The page names the assets of this version: a cached page would ask for files gone after an upgrade.
    'cache-control': 'no-store',
    'referrer-policy': referrerPolicy,
  };
}

export function serveApiReference(app: HttpServer, options: ApiReferenceOptions): void {
  const assets = loadAssets();
  // The assets' URLs change with their content, so a browser may keep them for good.
  const version = createHash('sha256').update(Buffer.concat([...assets.values()].map((a) => a.body))).digest('base64url').slice(0, 16);
  // Under the public URL's path, should the platform be served below its origin's root.
  const base = new URL(options.publicUrl).pathname.replace(/\/+$/, '');
  const assetUrl = (name: string) => `${base}${apiReferencePath}/assets/${version}/${name}`;

  const index = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · Paymesh</title>
<link rel="icon" type="image/png" href="${assetUrl('favicon-32x32.png')}">
<link rel="stylesheet" href="${assetUrl('swagger-ui.css')}">
<link rel="stylesheet" href="${assetUrl('api-reference.css')}">
</head>
<body>
<div id="swagger-ui" data-document-url="${escapeHtml(`${base}${options.documentPath}`)}" data-client-id="${escapeHtml(apiReferenceClientId)}" data-redirect-url="${escapeHtml(apiReferenceRedirectUri(options.publicUrl))}" data-resource="${escapeHtml(options.resource)}" data-scopes="${escapeHtml(options.scopes.join(' '))}">
<noscript><p>The API reference needs JavaScript. The API's document itself is at <a href="${escapeHtml(`${base}${options.documentPath}`)}">${escapeHtml(options.documentPath)}</a>.</p></noscript>
</div>
<script src="${assetUrl('swagger-ui-bundle.js')}"></script>
<script src="${assetUrl('api-reference.js')}"></script>
</body>
</html>
`;
  // Swagger UI's own page for the end of the sign-in: its script hands the code to the page that
  // opened the sign-in window (same origin only) and closes it. The code is in this page's URL:
  // no Referer carries it anywhere.
  const redirectPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Signing in · Paymesh</title>
</head>
<body>
<script src="${assetUrl('oauth2-redirect.js')}"></script>
</body>
</html>
`;

  app.get(apiReferencePath, { config: { public: true } }, async (_request, reply) =>
    reply.headers(pageHeaders(apiReferenceCsp, 'strict-origin')).send(index));
  app.get(apiReferenceRedirectPath, { config: { public: true } }, async (_request, reply) =>
    reply.headers(pageHeaders(apiReferenceRedirectCsp, 'no-referrer')).send(redirectPage));
  app.get<{ Params: { version: string; name: string } }>(`${apiReferencePath}/assets/:version/:name`, { config: { public: true } }, async (request, reply) => {
    const asset = assets.get(request.params.name);
    if (request.params.version !== version || asset === undefined) return reply.callNotFound();
    return reply.headers({ 'content-type': asset.type, 'cache-control': 'public, max-age=31536000, immutable' }).send(asset.body);
  });
}
