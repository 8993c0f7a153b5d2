// The API reference site (the gateway's /docs, ADR 26) as a person uses it in Chromium: the page
// shows the merged document, every tag of it, loading nothing from elsewhere; the person signs in
// from its Authorize dialog (authorization code + PKCE, as the built-in client paymesh-docs) on
// Paymesh's own login page, and a "try it" request with the token answers 200. axe-core checks the
// page. The headers and the client's refusals over plain HTTP are in
// services/gateway/test/api-reference.test.ts and services/auth/test/api-reference-client.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, beforeEach, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { Page } from 'playwright-core';
import { startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { chromiumSuite, skipWithoutChromium } from './chromium.ts';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: { readonly target: unknown[] }[];
}

describe('the API reference site in a real browser', { skip: skipWithoutChromium() }, () => {
  const browser = chromiumSuite();
  let platform: TestPlatform;
  let alice: SignedUpUser;
  /** The public URL (localhost, as auth publishes it): the redirect URI registered for paymesh-docs is under it. */
  let origin: string;
  let tags: string[];
  let page: Page;
  let requested: string[];

  before(async () => {
    platform = await startTestPlatform('pglite');
    origin = `http://localhost:${new URL(platform.gatewayUrl).port}`;
    alice = await platform.api.signUp();
    const document = (await (await fetch(`${origin}/openapi.json`)).json()) as { tags: { name: string }[] };
    tags = document.tags.map((tag) => tag.name);
  });
  after(async () => {
    await platform?.stop();
  });
  beforeEach(() => {
    page = browser.page;
    requested = [];
    browser.context.on('request', (request) => void requested.push(request.url()));
  });

  /** Opens /docs and waits until Swagger UI has rendered the document. */
  const openReference = async () => {
    await page.goto(`${origin}/docs`);
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'Paymesh API' }).waitFor();
    await page.locator('.opblock-tag-section').first().waitFor();
  };

  /** axe-core's serious and critical violations on the page as it is now. */
  const axeViolations = async (): Promise<AxeViolation[]> => {
    // Evaluated through the DevTools protocol, which the page's CSP does not govern: the page
    // itself still runs no inline script.
    await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      // The whole document (axe's default context).
      const { violations } = await (globalThis as unknown as { axe: { run: (options: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe.run({ resultTypes: ['violations'] });
      return violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, nodes: nodes.map((n) => ({ target: n.target })) }));
    });
    return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  };

  test('the page shows the merged document with every one of its tags, and loads nothing from another origin', async () => {
    await openReference();
    assert.equal(await page.title(), 'API reference · Paymesh');
    const shown = await page.locator('.opblock-tag-section h3[data-tag]').evaluateAll((headings) => headings.map((h) => h.getAttribute('data-tag')));
    assert.deepEqual([...shown].sort(), [...tags].sort());
    assert.ok(tags.length >= 10, `the merged document has the services' tags (${tags.join(', ')})`);
    assert.deepEqual(requested.filter((url) => !url.startsWith(`${origin}/`)), [], 'nothing from elsewhere');
  });

  test('signing in from the Authorize dialog on Paymesh\'s login page (PKCE, no consent), then "try it" on GET /users/me answers 200 with the person\'s account; the token stays out of storage', async () => {
    await openReference();
    const tokens: string[] = [];
    page.on('response', async (response) => {
      if (response.url() === `${origin}/auth/token` && response.ok()) tokens.push(((await response.json()) as { access_token: string }).access_token);
    });
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.waitFor();
    const codeFlow = dialog.locator('.auth-container').filter({ has: page.locator('h4', { hasText: 'authorizationCode with PKCE' }) });
    assert.equal(await codeFlow.locator('#client_id_authorizationCode').inputValue(), 'paymesh-docs');
    assert.equal(await codeFlow.locator('#client_secret_authorizationCode').isVisible(), false, 'no secret asked of a public client');
    const [popup] = await Promise.all([page.waitForEvent('popup'), codeFlow.getByRole('button', { name: 'Authorize' }).click()]);
    await popup.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.match(await popup.locator('main').innerText(), /to continue to Paymesh API reference/);
    await popup.getByLabel('Username or email').fill(alice.username);
    await popup.getByLabel('Password').fill(alice.password);
    await Promise.all([popup.waitForEvent('close'), popup.getByRole('button', { name: 'Sign in' }).click()]);
    await codeFlow.getByRole('button', { name: 'Logout' }).waitFor();
    assert.equal(await dialog.locator('.errors').count(), 0, 'no error in the dialog');
    assert.equal(tokens.length, 1);
    const claims = decodeJwt(tokens[0]!);
    assert.equal(claims.aud, 'urn:paymesh:platform');
    assert.equal(claims.client_id, 'paymesh-docs');
    assert.equal(claims.sub, String(alice.id));
    assert.deepEqual(String(claims.scope).split(' ').sort(), ['notifications:read', 'notifications:write', 'payments:read', 'payments:write', 'users:read', 'users:write'], 'the scopes ticked at first');
    await dialog.getByRole('button', { name: 'Close' }).last().click();

    const me = page.locator('.opblock-get').filter({ has: page.locator('.opblock-summary-path[data-path="/users/me"]') });
    await me.locator('.opblock-summary-control').click();
    await me.getByRole('button', { name: 'Try it out' }).click();
    await me.getByRole('button', { name: 'Execute' }).click();
    const status = me.locator('.live-responses-table tbody .response-col_status');
    await status.waitFor();
    assert.equal((await status.innerText()).trim(), '200');
    assert.match(await me.locator('.live-responses-table tbody .response-col_description').innerText(), new RegExp(alice.username));

    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    assert.ok(!storage.includes(tokens[0]!), 'the token is not in localStorage or sessionStorage');
  });

  test('axe-core finds no serious or critical accessibility violation on the page, nor in its Authorize dialog', async () => {
    await openReference();
    const found = new Map<string, AxeViolation[]>();
    found.set('the page', await axeViolations());
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    await page.locator('.dialog-ux .modal-ux').waitFor();
    found.set('the Authorize dialog', await axeViolations());
    await page.getByRole('button', { name: 'Close' }).first().click();
    // An operation tried without signing in: its form, and the 401 it gets.
    const payments = page.locator('.opblock-get').filter({ has: page.locator('.opblock-summary-path[data-path="/payments"]') });
    await payments.locator('.opblock-summary-control').click();
    await payments.getByRole('button', { name: 'Try it out' }).click();
    await payments.getByRole('button', { name: 'Execute' }).click();
    const status = payments.locator('.live-responses-table tbody .response-col_status');
    await status.waitFor();
    assert.equal((await status.innerText()).trim(), '401');
    found.set('an operation tried', await axeViolations());
    const report = [...found].flatMap(([where, violations]) => violations.map((v) => `${where}: ${v.impact} ${v.id}: ${v.help} (${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(' ')})`));
    assert.deepEqual(report, []);
  });
});
