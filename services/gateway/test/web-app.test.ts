// The web dashboard's HTTP surface (ADR 27): the page at / and at every path under /app (the
// app's own routes), never cached, with a CSP that allows scripts, styles and API calls from this
// origin alone and no framing; its bundle under a versioned URL cached for good; the API prefixes
// (/payments above all, whose page is /app/payments) still reach the services. What a person does
// on it is in test/browser/web-sign-in.test.ts. PGlite only: the backend does not matter to headers.
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { webAppClientId, webAppRedirectUri, webAppSignedOutUri } from '@paymesh/platform/web-app-client';

const parseCsp = (header: string | null) => new Map((header ?? '').split(';').map((d) => d.trim().split(/\s+/)).map(([directive, ...sources]) => [directive!, sources]));

describe('the web dashboard over HTTP', () => {
  let platform: TestPlatform;
  /** The public URL as auth publishes it (localhost): the redirect URIs are under it. */
  let origin: string;
  let page: { status: number; text: string; headers: Headers };

  before(async () => {
    platform = await startTestPlatform('pglite');
    origin = `http://localhost:${new URL(platform.gatewayUrl).port}`;
    const response = await fetch(`${origin}/`);
    page = { status: response.status, text: await response.text(), headers: response.headers };
  });
  after(async () => {
    await platform?.stop();
  });

  const assetUrls = () => [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, url]) => url!).filter((url) => url.startsWith('/app/assets/'));

  test('GET / is the app\'s page: scripts, styles and API calls from its own origin only (no inline script or style), no framing, revalidated on every visit', () => {
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const csp = parseCsp(page.headers.get('content-security-policy'));
    assert.deepEqual(csp.get('default-src'), ["'none'"]);
    assert.deepEqual(csp.get('script-src'), ["'self'"]);
    assert.deepEqual(csp.get('style-src'), ["'self'"]);
    assert.deepEqual(csp.get('connect-src'), ["'self'"]);
    assert.deepEqual(csp.get('frame-ancestors'), ["'none'"]);
    assert.deepEqual(csp.get('base-uri'), ["'none'"]);
    for (const [directive, sources] of csp) assert.ok(!sources.some((s) => ["'unsafe-inline'", "'unsafe-eval'", '*', 'https:', 'http:'].includes(s)), `${directive} ${sources.join(' ')}`);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.doesNotMatch(page.text, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.doesNotMatch(page.text, /<style|\bstyle=/, 'no inline style');
    assert.equal(assetUrls().length, 2, 'the bundle and the stylesheet');
  });

  test('the page names the built-in client, its redirect URIs on the public URL, auth\'s issuer and the platform-wide resource', () => {
    const attribute = (name: string) => new RegExp(`data-${name}="([^"]*)"`).exec(page.text)?.[1];
    assert.equal(attribute('client-id'), webAppClientId);
    assert.equal(attribute('redirect-uri'), webAppRedirectUri(origin));
    assert.equal(attribute('signed-out-uri'), webAppSignedOutUri(origin));
    assert.equal(attribute('issuer'), `${origin}/auth`);
    assert.equal(attribute('resource'), 'urn:paymesh:platform');
    assert.match(attribute('scopes') ?? '', /\bopenid\b.*\bpayments:read\b/);
  });

  test('the assets are cached for good under a versioned URL; another version or name is 404; the first page\'s JavaScript is at most 150 KB gzipped', async () => {
    for (const url of assetUrls()) {
      const response = await fetch(`${origin}${url}`);
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      const body = Buffer.from(await response.arrayBuffer());
      if (url.endsWith('.js')) {
        assert.match(response.headers.get('content-type') ?? '', /^text\/javascript/);
        assert.ok(gzipSync(body).length <= 150 * 1024, `${gzipSync(body).length} bytes gzipped`);
      }
      // The same bytes whether or not the client asks for compression.
      if (response.headers.get('content-encoding') === 'gzip') gunzipSync(body);
    }
    const js = assetUrls().find((url) => url.endsWith('app.js'))!;
    assert.equal((await fetch(`${origin}${js.replace(/\/assets\/[^/]+\//, '/assets/0000000000000000/')}`)).status, 404);
    assert.equal((await fetch(`${origin}${js.replace(/app\.js$/, 'other.js')}`)).status, 404);
    assert.equal((await fetch(`${origin}${js.replace(/app\.js$/, 'constructor')}`)).status, 404);
  });

  test('the app\'s own routes (/app, /app/payments, /app/signed-in?code=…, an unknown /app/…) serve the same page', async () => {
    for (const path of ['/app', '/app/', '/app/payments', '/app/signed-in?code=x&state=y', '/app/no/such/page']) {
      const response = await fetch(`${origin}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('cache-control'), 'no-cache', path);
      assert.equal(await response.text(), page.text, path);
    }
  });

  test('the API prefixes still reach the services: /payments, /users/me, /notifications answer JSON, not the page', async () => {
    const { token } = await platform.api.signUp();
    for (const path of ['/payments', '/users/me', '/notifications', '/wallet', '/payment_methods']) {
      const anonymous = await fetch(`${origin}${path}`);
      assert.equal(anonymous.status, 401, path);
      assert.match(anonymous.headers.get('content-type') ?? '', /^application\/json/, path);
      const signedIn = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
      assert.match(signedIn.headers.get('content-type') ?? '', /^application\/json/, path);
      assert.notEqual(signedIn.status, 401, path);
    }
    assert.match((await fetch(`${origin}/openapi.json`)).headers.get('content-type') ?? '', /^application\/json/);
    assert.match(await (await fetch(`${origin}/docs`)).text(), /API reference/);
    // A path beside /app is not the app's.
    assert.equal((await fetch(`${origin}/application`)).status, 404);
  });
});
