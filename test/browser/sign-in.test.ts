// Signing in to an app with Paymesh, as a person does it in Chromium: the app (a relying party on
// loopback, another site) sends the browser to the authorization endpoint, the person signs in
// and consents on our pages, and the app gets a code at its redirect URI, exchanges it with PKCE
// and calls the API. Then signing out from the app. The forged requests around these pages (other
// origins, tokens, cookies) are in test/html-pages.test.ts and services/auth/test/.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { eventually, startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { chromiumSuite, seriousAxeViolations, skipWithoutChromium, startRelyingParty, type AppClient, type Landing, type RelyingParty } from './chromium.ts';

const web: AppClient = { clientId: 'browser-web', resource: 'urn:paymesh:platform', scope: 'openid profile offline_access payments:read users:read notifications:read', apiPath: '/users/me' };
const partner: AppClient = { clientId: 'browser-partner', resource: 'urn:paymesh:payments', scope: 'openid payments:read', apiPath: '/payments' };

describe('signing in to an app in a real browser', { skip: skipWithoutChromium() }, () => {
  const browser = chromiumSuite();
  let rp: RelyingParty;
  let platform: TestPlatform;
  let alice: SignedUpUser;
  let issuer: string;

  before(async () => {
    rp = await startRelyingParty();
    platform = await startTestPlatform('pglite', {
      env: {
        OAUTH_CLIENTS: JSON.stringify([rp.metadata(web, { client_name: 'Paymesh Web' }), rp.metadata(partner, { client_name: 'Partner <App>' })]),
        FIRST_PARTY_CLIENTS: web.clientId,
      },
    });
    issuer = `http://localhost:${new URL(platform.gatewayUrl).port}/auth`;
    await rp.connect(issuer, platform.gatewayUrl);
    alice = await platform.api.signUp();
  });
  after(async () => {
    await platform?.stop();
    await rp?.close();
  });
  let page: Page;
  beforeEach(() => {
    page = browser.page;
  });

  /** Waits until the app shows its callback page (it answers once it has exchanged the code); returns what the app got. */
  const landed = async (): Promise<Landing> => {
    await page.waitForURL((url) => url.href.startsWith(rp.redirectUri));
    await page.locator('h1').waitFor();
    return rp.landings.at(-1)!;
  };
  const fillLogin = async (username: string, password: string) => {
    await page.getByLabel('Username or email').fill(username);
    await page.getByLabel('Password').fill(password);
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Sign in' }).click()]);
    return response;
  };
  /** Signs in on the login page; the form post must be accepted (a redirect back into the flow). */
  const signInAs = async (user: { username: string; password: string }) => {
    const response = await fillLogin(user.username, user.password);
    if (response.status() !== 303) assert.fail(`the sign-in was refused (${response.status()}): ${await response.text()}`);
  };
  const signedIn = (landing: Landing) => {
    assert.ok(landing.ok, `the app got tokens, not ${landing.ok ? '' : landing.error}`);
    return landing;
  };
  const refusedEverywhere = (token: string) =>
    eventually(async () => {
      const statuses = await Promise.all(['/payments', '/users/me', '/notifications/'].map((path) => platform.api.call('GET', path, { token })));
      return statuses.every((r) => r.status === 401) ? true : undefined;
    }, { timeoutMs: 1_000 });

  test('a person signs in to a first-party app: the app gets a code at its redirect URI, exchanges it with PKCE, and every service accepts the token; no consent asked', async () => {
    await page.goto(rp.signInUrl(web));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.match(await page.locator('main').innerText(), /to continue to Paymesh Web/);
    await signInAs(alice);
    const landing = signedIn(await landed());
    assert.equal(await page.locator('#signed-in').innerText(), `Signed in as ${alice.id}`);
    assert.equal(landing.apiStatus, 200, 'GET /users/me with the token');
    assert.equal(landing.tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(landing.tokens.refresh_token !== undefined);
    assert.equal(landing.tokens.claims()?.sub, String(alice.id));
    const me = await platform.api.call('GET', '/users/me', { token: landing.tokens.access_token });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, alice.id);
    assert.equal((await platform.api.call('GET', '/payments', { token: landing.tokens.access_token })).status, 200);
  });

  test('a wrong password shows the message and the form again, with the username kept; an unknown user sees the same; then the right password signs in', async () => {
    const landingsBefore = rp.landings.length;
    await page.goto(rp.signInUrl(web));
    const wrong = await fillLogin(alice.username, 'not-the-password');
    assert.equal(wrong.status(), 401);
    assert.equal(await page.getByRole('alert').innerText(), 'Invalid username or password.');
    assert.equal(await page.getByLabel('Username or email').inputValue(), alice.username);
    assert.equal(await page.getByLabel('Password').inputValue(), '');
    const wrongPage = await page.locator('main').innerHTML();
    const unknown = await fillLogin('nobody-at-all', 'not-the-password');
    assert.equal(unknown.status(), 401);
    assert.equal((await page.locator('main').innerHTML()).replace('nobody-at-all', alice.username), wrongPage, 'an unknown user and a wrong password look the same');
    assert.equal(rp.landings.length, landingsBefore, 'no code reached the app');
    await signInAs(alice);
    assert.equal(signedIn(await landed()).apiStatus, 200);
  });

  test("a third-party app asks for consent, showing its name (escaped) and the scopes in words; Allow gives it a working code", async () => {
    await page.goto(rp.signInUrl(partner));
    await signInAs(alice);
    await page.getByRole('heading', { name: 'Allow access' }).waitFor();
    assert.equal(await page.locator('main strong').innerText(), 'Partner <App>');
    // Each scope in words a person reads, its name after it.
    assert.deepEqual(await page.locator('main li').allInnerTexts(), ['Know which Paymesh account is yours openid', 'See your payments, saved cards and wallet payments:read']);
    assert.deepEqual(await seriousAxeViolations(page), [], 'the consent page');
    await page.getByRole('button', { name: 'Allow' }).click();
    const landing = signedIn(await landed());
    assert.equal(landing.apiStatus, 200, 'GET /payments with the token');
  });

  test('Deny on the consent page sends the person back to the app with error=access_denied, and no code', async () => {
    await page.goto(rp.signInUrl(partner));
    await signInAs(alice);
    await page.getByRole('button', { name: 'Deny' }).click();
    const landing = await landed();
    assert.deepEqual(landing, { ok: false, error: 'access_denied' });
    assert.equal(new URL(page.url()).searchParams.get('code'), null);
    assert.equal(await page.locator('#refused').innerText(), 'Not signed in: access_denied');
  });

  test('signing out from the app (RP-initiated logout): the person confirms on our page and lands back at the app; the next sign-in asks for the password, the refresh token is dead and the access token refused everywhere', async () => {
    await page.goto(rp.signInUrl(web));
    await signInAs(alice);
    const { tokens } = signedIn(await landed());
    // Signed in at Paymesh: another sign-in to the app goes straight through.
    await page.goto(rp.signInUrl(web));
    signedIn(await landed());

    const loaded: string[] = [];
    page.on('request', (request) => void loaded.push(request.url()));
    await page.goto(rp.signOutUrl(web, tokens.id_token!));
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the sign-out confirmation page');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'our own page');
    assert.equal(await page.locator('script').count(), 0, 'no script on it');
    assert.deepEqual(loaded.filter((url) => !url.startsWith(issuer)), [], 'nothing loaded from elsewhere');
    assert.ok(((await page.locator('input[name=xsrf]').getAttribute('value')) ?? '').length > 0, 'the logout confirmation has its own CSRF token');
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(rp.postLogoutRedirectUri);
    assert.equal(await page.locator('#signed-out').innerText(), 'Signed out of the app');

    await refusedEverywhere(tokens.access_token);
    await assert.rejects(rp.refresh(web, tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
    await page.goto(rp.signInUrl(web));
    await page.getByLabel('Password').waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Sign in' }).count(), 1, 'the password is asked again');
  });

  test('with response_mode=form_post, the page whose one script the CSP allows posts the code to the app', async () => {
    await page.goto(rp.signInUrl(web, { responseMode: 'form_post' }));
    await signInAs(alice);
    const landing = signedIn(await landed());
    assert.equal(landing.apiStatus, 200);
  });

  test('a page of another origin on the same site cannot submit the sign-in form, even with its token: Chromium sends that Origin, or null from a no-referrer page, and auth refuses', async () => {
    await page.goto(rp.signInUrl(web));
    const action = new URL((await page.locator('form').getAttribute('action'))!, page.url()).href;
    const csrf = (await page.locator('input[name=csrf]').getAttribute('value'))!;
    // localhost:<the app's port> is the platform's site (localhost) but not its origin: the
    // interaction cookie (SameSite=Lax) goes with the post, so only the Origin check stands.
    const attack = (policy: string) => `<!doctype html><meta name="referrer" content="${policy}"><form method="post" action="${action}">
<input name="csrf" value="${csrf}"><input name="username" value="${alice.username}"><input name="password" value="${alice.password}"><button id="go">Win a prize</button></form>`;
    rp.servePage('same-site', attack('strict-origin-when-cross-origin'));
    rp.servePage('no-referrer', attack('no-referrer'));
    const other = `http://localhost:${new URL(rp.url).port}`;
    for (const name of ['same-site', 'no-referrer']) {
      const attacker = await browser.context.newPage();
      await attacker.goto(`${other}/page/${name}`);
      const [response] = await Promise.all([attacker.waitForResponse((r) => r.request().method() === 'POST'), attacker.click('#go')]);
      assert.equal(response.status(), 403, name);
      assert.equal(await response.request().headerValue('origin'), name === 'same-site' ? other : 'null');
      assert.equal(await attacker.getByRole('alert').innerText(), 'This form was not sent from the sign-in page. Start again from the application.');
      await attacker.close();
    }
    // The person's own page still works.
    await signInAs(alice);
    assert.equal(signedIn(await landed()).apiStatus, 200);
  });
});
