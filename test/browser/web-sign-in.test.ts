// The web dashboard (the gateway's /, ADR 27) as a person uses it in Chromium: they open /, sign
// in on Paymesh's own login page (authorization code + PKCE as the built-in public client
// paymesh-web, through oauth4webapi), see their username in the header and the payment they made
// in their list, formatted in its currency; axe-core finds nothing serious; signing out ends the
// session at auth (RP-initiated logout), so a reload asks them to sign in again with their
// password, and the refresh token the app held is dead. A reload (which forgets the tokens held in
// memory) signs the person in again silently (prompt=none) on the page they were on, and shortly
// before the access token expires the app renews it with the rotating refresh token; once the
// refresh token's chain has expired while the session at auth lives, the app signs in again
// without asking anything (consent_required, then a first-party sign-in that consents at once). The headers
// are in services/gateway/test/web-app.test.ts.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import type { SignedUpUser } from '@paymesh/app/testing';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite } from './dashboard-suite.ts';

interface TokenAnswer {
  readonly access_token: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
}

describe('the web dashboard in a real browser', { skip: skipWithoutChromium() }, () => {
  const browser = dashboardSuite();
  let alice: SignedUpUser;
  let paymentId: string;

  before(async () => {
    alice = await browser.platform.api.signUp();
    const paid = await browser.platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: alice.token, json: { amount: 1234.5, user_id: alice.id } });
    assert.equal(paid.status, 200);
    paymentId = paid.body.payment.id;
  });

  test('sign in from /, see the username and the payment, pass axe-core, sign out: the session has ended (a reload asks for the password again) and the refresh token is dead', async () => {
    const { page, context } = browser;
    const requested: string[] = [];
    context.on('request', (request) => void requested.push(request.url()));
    const tokens: TokenAnswer[] = [];
    page.on('response', async (response) => {
      if (response.url() === `${browser.origin}/auth/token` && response.ok()) tokens.push((await response.json()) as TokenAnswer);
    });

    await page.goto(`${browser.origin}/`);
    await page.getByRole('heading', { name: 'Welcome to Paymesh' }).waitFor();
    assert.equal(await page.title(), 'Paymesh');
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the signed-out page');

    await page.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.match(await page.locator('main').innerText(), /to continue to Paymesh/);
    await page.getByLabel('Username or email').fill(alice.username);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // Back in the app: the username in the header, the list of payments.
    const header = page.getByRole('banner');
    await header.getByText(`Signed in as ${alice.username}`).waitFor();
    const table = page.getByRole('table', { name: 'Your payments' });
    await table.waitFor();
    assert.equal(page.url(), `${browser.origin}/`, 'back where the sign-in started, the code gone from the address bar');
    const row = table.getByRole('row').filter({ hasText: paymentId });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /\$1,234\.50/);
    assert.match(await row.innerText(), /Succeeded/);
    assert.equal(await page.getByRole('button', { name: 'Next' }).count(), 0, 'one page only');

    // The token exchange: one answer, with the platform's audience, a refresh token and an ID token.
    assert.equal(tokens.length, 1);
    const claims = decodeJwt(tokens[0]!.access_token);
    assert.equal(claims.aud, 'urn:paymesh:platform');
    assert.equal(claims.client_id, 'paymesh-web');
    assert.equal(claims.sub, String(alice.id));
    assert.ok(tokens[0]!.refresh_token !== undefined && tokens[0]!.id_token !== undefined);
    // Nothing of them in the browser's storage, nor the code in the address bar.
    const storage = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
    for (const token of [tokens[0]!.access_token, tokens[0]!.refresh_token!, tokens[0]!.id_token!]) assert.ok(!storage.includes(token), 'no token in localStorage or sessionStorage');
    assert.equal(storage, '{}{}', 'the sign-in\'s verifier and state are gone once used');
    assert.deepEqual(requested.filter((url) => !url.startsWith(`${browser.origin}/`)), [], 'nothing loaded from elsewhere');
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the payments page');

    // Sign out: auth asks to confirm on its own page, then sends the person back to the app.
    await header.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${browser.origin}/app/signed-out`);
    await page.getByRole('heading', { name: 'You have signed out' }).waitFor();
    assert.equal(await header.getByText(alice.username).count(), 0, 'nobody is shown as signed in');

    // The session has ended at auth: after a reload, signing in asks for the password again.
    await page.reload();
    await page.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await page.getByLabel('Password').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Sign in' }).count(), 1, 'the password is asked again');
    // And the refresh token the app held is dead.
    const refresh = await fetch(`${browser.origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens[0]!.refresh_token!, client_id: 'paymesh-web', resource: 'urn:paymesh:platform' }),
    });
    assert.equal(refresh.status, 400);
    assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant');
  });

  test('a person with no payments sees a sentence saying so; an unknown page of the app says it does not exist', async () => {
    const { page } = browser;
    const bob = await browser.platform.api.signUp();
    await browser.signIn(page, '/app/no-such-page', bob);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/app/no-such-page', 'back where the sign-in started');
    await page.getByRole('link', { name: 'Go to your payments' }).click();
    await page.getByRole('status').filter({ hasText: 'You have not made any payments yet.' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the empty payments page');
  });

  test('a reload signs in again silently (prompt=none, no page of auth shown) on the same page; shortly before the access token expires the app renews it with the refresh token, which rotates', async () => {
    const { page, context } = browser;
    // The page's clock, moved forward below instead of waiting for the token's lifetime.
    await context.clock.install();
    const grants: { grant: string; prompt: string | null }[] = [];
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/auth/token') grants.push({ grant: new URLSearchParams(request.postData() ?? '').get('grant_type') ?? '', prompt: null });
      if (url.pathname === '/auth/authorize') grants.push({ grant: 'authorize', prompt: url.searchParams.get('prompt') });
    });
    const tokens: TokenAnswer[] = [];
    page.on('response', async (response) => {
      if (response.url() === `${browser.origin}/auth/token` && response.ok()) tokens.push((await response.json()) as TokenAnswer);
    });
    const bearers = new Set<string>();
    context.on('request', (request) => {
      const bearer = request.headers().authorization;
      if (bearer !== undefined && new URL(request.url()).pathname.startsWith('/payments')) bearers.add(bearer.replace(/^Bearer /, ''));
    });

    // A first visit tries silently, finds no session at auth, and shows the sign-in button.
    await browser.signIn(page, '/app/payments?status=succeeded', alice);
    await page.getByRole('table', { name: 'Your payments' }).getByRole('row').filter({ hasText: paymentId }).waitFor();
    assert.deepEqual(grants.map(({ grant, prompt }) => `${grant}:${prompt}`), ['authorize:none', 'authorize:null', 'authorization_code:null']);

    // A reload forgets the tokens; the app gets new ones without showing auth's page.
    grants.length = 0;
    let sawLoginPage = false;
    page.on('framenavigated', (frame) => void (sawLoginPage ||= new URL(frame.url()).pathname.startsWith('/auth/interaction')));
    await page.reload();
    await page.getByRole('banner').getByText(`Signed in as ${alice.username}`).waitFor();
    await page.getByRole('table', { name: 'Your payments' }).getByRole('row').filter({ hasText: paymentId }).waitFor();
    assert.equal(`${new URL(page.url()).pathname}${new URL(page.url()).search}`, '/app/payments?status=succeeded', 'the same page, its filter kept');
    assert.deepEqual(grants.map(({ grant, prompt }) => `${grant}:${prompt}`), ['authorize:none', 'authorization_code:null']);
    assert.equal(sawLoginPage, false, 'no page of auth was shown');
    assert.equal(await page.evaluate(() => JSON.stringify({ ...sessionStorage })), '{}');

    // Fourteen minutes later (the token lives fifteen), the next request renews first.
    grants.length = 0;
    const beforeRenewal = tokens.at(-1)!;
    await context.clock.fastForward('14:40');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments', exact: true }).click();
    await page.getByRole('table', { name: 'Your payments' }).getByRole('row').filter({ hasText: paymentId }).waitFor();
    assert.deepEqual(grants.map(({ grant }) => grant), ['refresh_token']);
    const renewed = tokens.at(-1)!;
    assert.notEqual(renewed.access_token, beforeRenewal.access_token);
    assert.notEqual(renewed.refresh_token, beforeRenewal.refresh_token, 'the refresh token rotated');
    assert.ok(bearers.has(renewed.access_token), 'the API is called with the renewed token');
    const reused = await fetch(`${browser.origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: beforeRenewal.refresh_token!, client_id: 'paymesh-web', resource: 'urn:paymesh:platform' }),
    });
    assert.equal(reused.status, 400, 'the used refresh token is dead');
  });
});

describe('the dashboard when its refresh token has expired but the session at auth lives', { skip: skipWithoutChromium() }, () => {
  // The refresh token's chain (and the app's grant) lives 3 s; the session at auth lives on.
  const browser = dashboardSuite({ env: { REFRESH_TOKEN_TTL_SECONDS: '3' } });

  test('the next renewal finds the refresh token dead and signs in again without a password: the grant is renewed at auth (consent_required, then a first-party sign-in that asks nothing), back on the same page', async () => {
    const { page, context } = browser;
    const carol = await browser.platform.api.signUp();
    await context.clock.install();
    const authorizations: (string | null)[] = [];
    context.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/auth/authorize') authorizations.push(url.searchParams.get('prompt'));
    });
    let passwordAsked = 0;
    page.on('framenavigated', (frame) => void (new URL(frame.url()).pathname.startsWith('/auth/interaction') && passwordAsked++));
    await browser.signIn(page, '/app/payments', carol);
    await page.getByRole('status').filter({ hasText: 'You have not made any payments yet.' }).waitFor();
    const shownBefore = passwordAsked;
    authorizations.length = 0;

    // The refresh token's 3 s pass at auth; the page's clock moves to the renewal point.
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await context.clock.fastForward('14:40');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Inbox' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    await page.getByRole('banner').getByText(`Signed in as ${carol.username}`).waitFor();
    assert.equal(new URL(page.url()).pathname, '/app/inbox', 'back on the page it was going to');
    assert.deepEqual(authorizations, ['none', null], 'silently first (consent_required), then a sign-in that asked nothing');
    assert.equal(await page.getByLabel('Password').count(), 0);
    assert.ok(passwordAsked - shownBefore <= 1, 'at most the interaction that consents at once, no page shown to fill');
  });
});
