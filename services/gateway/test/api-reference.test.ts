// The API reference site's HTTP surface (GET /docs, ADR 26): the page's CSP allows scripts and
// styles from itself alone and no framing, the page and its redirect page are never cached while
// the assets are, under a URL that changes with them; the page names the built-in client and the
// redirect URI auth registered for it. What a person does on it is in
// test/browser/api-reference.test.ts; the client's refusals in services/auth/test/api-reference-client.test.ts.
// PGlite only: the backend does not matter to headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { HttpBrowser } from '@paymesh/app/testing/http-browser';
import { gatewayPaths, routeTable } from '../src/service.ts';
import { loadConfig } from '@paymesh/platform/config';
import { gatewayConfigSpec } from '../src/config.ts';

/** A CSP header as directive → sources. */
const parseCsp = (header: string | null) => new Map((header ?? '').split(';').map((d) => d.trim().split(/\s+/)).map(([directive, ...sources]) => [directive!, sources]));

describe('the API reference site over HTTP', () => {
  let platform: TestPlatform;
  /** The public URL as auth publishes it (localhost): the redirect URI is under it. */
  let origin: string;
  let page: { status: number; text: string; headers: Headers };

  before(async () => {
    platform = await startTestPlatform('pglite');
    origin = `http://localhost:${new URL(platform.gatewayUrl).port}`;
    const response = await fetch(`${origin}/docs`);
    page = { status: response.status, text: await response.text(), headers: response.headers };
  });
  after(async () => {
    await platform?.stop();
  });

  const assetUrls = () => [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url!).filter((url) => url.startsWith('/docs/assets/'));

  test('/docs is a page that runs scripts and styles from its own origin only (no inline script or style, no eval), cannot be framed and is never cached', () => {
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = parseCsp(page.headers.get('content-security-policy'));
    assert.deepEqual(csp.get('default-src'), ["'none'"]);
    assert.deepEqual(csp.get('script-src'), ["'self'"]);
    assert.deepEqual(csp.get('style-src'), ["'self'"]);
    assert.deepEqual(csp.get('connect-src'), ["'self'"]);
    assert.deepEqual(csp.get('img-src'), ["'self'", 'data:']);
    assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(csp.get('base-uri'), ["'none'"]);
    assert.deepEqual(csp.get('form-action'), ["'none'"]);
    for (const [directive, sources] of csp) assert.ok(!sources.some((s) => ["'unsafe-inline'", "'unsafe-eval'", '*', 'https:', 'http:'].includes(s)), `${directive} ${sources.join(' ')}`);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(page.headers.get('referrer-policy'), 'strict-origin');
    // Nothing for the CSP to let through: every script and stylesheet is a file of this site.
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(page.text, /<style|\bstyle=/, 'no inline style');
    for (const [, url] of page.text.matchAll(/(?:src|href)="([^"]+)"/g)) assert.match(url!, /^\/(docs\/assets\/|openapi\.json$)/);
  });

  test('the page names the built-in client and the redirect URI auth has for it, on the public URL; the document is the gateway\'s', async () => {
    const attribute = (name: string) => new RegExp(`data-${name}="([^"]*)"`).exec(page.text)?.[1];
    assert.equal(attribute('client-id'), 'paymesh-docs');
    assert.equal(attribute('document-url'), '/openapi.json');
    assert.equal(attribute('resource'), 'urn:paymesh:platform');
    const redirectUri = attribute('redirect-url')!;
    assert.equal(redirectUri, `${origin}/docs/oauth2-redirect.html`);
    // Auth takes that redirect URI for paymesh-docs: the sign-in goes on to the login page.
    const authorize = new URL(`${origin}/auth/authorize`);
    for (const [key, value] of Object.entries({ client_id: 'paymesh-docs', response_type: 'code', redirect_uri: redirectUri, scope: 'openid payments:read', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })) authorize.searchParams.set(key, value);
    const started = await new HttpBrowser().request(authorize);
    assert.equal(started.status, 303, started.text.slice(0, 200));
    assert.match(started.location ?? '', /\/auth\/interaction\//);
    const document = (await (await fetch(`${origin}/openapi.json`)).json()) as { components: { securitySchemes: { oauth2: { flows: { authorizationCode: { authorizationUrl: string } } } } } };
    assert.equal(document.components.securitySchemes.oauth2.flows.authorizationCode.authorizationUrl, `${origin}/auth/authorize`, 'the document sends the sign-in to the same origin');
  });

  test('its assets are cached for good under a URL that changes with them, with their type; another version or another file is not found', async () => {
    const urls = assetUrls();
    assert.deepEqual(urls.map((url) => url.split('/').at(-1)).sort(), ['api-reference.css', 'api-reference.js', 'favicon-32x32.png', 'swagger-ui-bundle.js', 'swagger-ui.css']);
    const types: Record<string, RegExp> = { js: /^text\/javascript/, css: /^text\/css/, png: /^image\/png$/ };
    for (const url of urls) {
      const response = await fetch(`${origin}${url}`);
      const body = await response.text();
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable', url);
      assert.match(response.headers.get('content-type') ?? '', types[url.split('.').at(-1)!]!, url);
      assert.doesNotMatch(body, /sourceMappingURL/, `${url}: no source map is asked for (none is served)`);
    }
    const version = urls[0]!.split('/')[3]!;
    for (const missing of [`/docs/assets/0000000000000000/swagger-ui-bundle.js`, `/docs/assets/${version}/package.json`, `/docs/assets/${version}/swagger-ui-bundle.js.map`, `/docs/assets/${version}/index.html`]) {
      const response = await fetch(`${origin}${missing}`);
      assert.equal(response.status, 404, missing);
      assert.equal(response.headers.get('cache-control'), 'no-store', missing);
    }
    const traversal = await fetch(`${origin}/docs/assets/${version}/..%2F..%2Fpackage.json`);
    assert.equal(traversal.status, 400);
  });

  test('the redirect page runs its one script file, sends no Referer (the code is in its URL), cannot be framed and is never cached', async () => {
    const response = await fetch(`${origin}/docs/oauth2-redirect.html?code=c&state=s`);
    const text = await response.text();
    assert.equal(response.status, 200);
    const csp = parseCsp(response.headers.get('content-security-policy'));
    assert.deepEqual(csp.get('default-src'), ["'none'"]);
    assert.deepEqual(csp.get('script-src'), ["'self'"]);
    assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.headers.get('x-frame-options'), 'DENY');
    const scripts = [...text.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag);
    assert.equal(scripts.length, 1);
    assert.match(scripts[0]!, /src="\/docs\/assets\/[^/]+\/oauth2-redirect\.js"/);
    assert.equal((await fetch(`${origin}${/src="([^"]+)"/.exec(scripts[0]!)![1]}`)).status, 200);
  });

  test('/docs/ is the same page; the site is under no service\'s prefix, so no service route is shadowed', async () => {
    const slash = await fetch(`${origin}/docs/`);
    assert.equal(slash.status, 200);
    assert.equal(await slash.text(), page.text);
    const prefixes = routeTable(loadConfig(gatewayConfigSpec, {}).config).map(([prefix]) => prefix);
    for (const path of gatewayPaths) assert.ok(!prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)), path);
  });
});
