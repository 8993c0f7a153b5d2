// Every HTML page the platform serves (auth's sign-in pages, the pages oidc-provider renders, users'
// emailed-link pages) cannot be framed, is never cached, runs no script but the one a form_post
// page needs, and keeps tokens out of the Referer; and every form on them is refused from another
// origin or `null`, and without its own secret whatever the origin. What a person does on these
// pages is tested in Chromium (test/browser/); here the requests are forged on purpose. The
// backend does not matter for headers and origins: PGlite only.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { formOn, HttpBrowser } from '@paymesh/app/testing/http-browser';
import { startTestPlatform, type SignedUpUser, type TestPlatform, type TestEnv } from '@paymesh/app/testing';
import { openMailbox, resetSubject, verifySubject, type Mailbox } from './mailed-links.ts';

const webRedirect = 'http://localhost:5173/callback';
const partnerRedirect = 'https://partner.example/cb';
const env: TestEnv = {
  OAUTH_CLIENTS: JSON.stringify([
    { client_id: 'pages-web', client_name: 'Pages Web', token_endpoint_auth_method: 'none', redirect_uris: [webRedirect], post_logout_redirect_uris: ['http://localhost:5173/'], grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid payments:read' },
    { client_id: 'pages-partner', client_name: 'Pages Partner', token_endpoint_auth_method: 'none', redirect_uris: [partnerRedirect], grant_types: ['authorization_code'], response_types: ['code'], scope: 'openid payments:read' },
  ]),
  FIRST_PARTY_CLIENTS: 'pages-web',
};

type Response = Awaited<ReturnType<HttpBrowser['request']>>;
const foreign = 'https://evil.example';
const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The headers and CSP every page must have; `name` says which page failed. */
function assertPageHeaders(name: string, page: Response): void {
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/, name);
  assert.equal(page.headers.get('x-frame-options'), 'DENY', name);
  assert.equal(page.headers.get('cache-control'), 'no-store', name);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff', name);
  assert.equal(page.headers.get('referrer-policy'), 'strict-origin', name);
  const csp = new Map((page.headers.get('content-security-policy') ?? '').split(';').map((d) => d.trim().split(/\s+/)).map(([directive, ...sources]) => [directive!, sources]));
  assert.deepEqual(csp.get('default-src'), ["'none'"], `${name}: default-src`);
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], `${name}: frame-ancestors`);
  assert.deepEqual(csp.get('base-uri'), ["'none'"], `${name}: base-uri`);
  for (const sources of csp.values()) {
    assert.ok(!sources.some((s) => s === "'unsafe-inline'" || s === "'unsafe-eval'" || s === '*'), `${name}: ${[...sources].join(' ')}`);
  }
  // Inline styles and scripts run only when the CSP names their hash; nothing is loaded from elsewhere.
  for (const [, style] of page.text.matchAll(/<style>([\s\S]*?)<\/style>/g)) assert.ok(csp.get('style-src')?.includes(sha256(style!)), `${name}: its style is allowed`);
  for (const [, script] of page.text.matchAll(/<script>([\s\S]*?)<\/script>/g)) assert.ok(csp.get('script-src')?.includes(sha256(script!)), `${name}: its script is allowed`);
  assert.doesNotMatch(page.text, /<(script|link|img|iframe)\b[^>]*\b(src|href)=/i, `${name}: loads nothing`);
  const meta = /<meta name="referrer" content="([^"]+)">/.exec(page.text)?.[1];
  if (meta !== undefined) assert.equal(meta, 'strict-origin', `${name}: meta referrer`);
}

describe('HTML pages: headers and form origins', () => {
  let mailbox: Mailbox;
  let platform: TestPlatform;
  let issuer: string;
  let origin: string;
  let alice: SignedUpUser;

  before(async () => {
    mailbox = await openMailbox();
    platform = await startTestPlatform('pglite', { env: { ...env, SMTP_URL: mailbox.smtpUrl } });
    origin = `http://localhost:${new URL(platform.gatewayUrl).port}`;
    issuer = `${origin}/auth`;
    alice = await platform.api.signUp();
  });
  after(async () => {
    await platform?.stop();
    await mailbox?.close();
  });

  const authorizeUrl = (clientId: 'pages-web' | 'pages-partner', extra: Record<string, string> = {}) => {
    const url = new URL(`${issuer}/authorize`);
    const params = {
      client_id: clientId, response_type: 'code', scope: 'openid payments:read', state: 's', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256',
      redirect_uri: clientId === 'pages-web' ? webRedirect : partnerRedirect, resource: clientId === 'pages-web' ? 'urn:paymesh:platform' : 'urn:paymesh:payments', ...extra,
    };
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    return url.toString();
  };
  /** A browser on the login page of a new authorization. */
  const loginPage = async (browser: HttpBrowser, clientId: 'pages-web' | 'pages-partner' = 'pages-web', extra: Record<string, string> = {}) => {
    const page = await browser.follow(authorizeUrl(clientId, extra), clientId === 'pages-web' ? webRedirect : partnerRedirect);
    assert.equal(page.status, 200, page.text.slice(0, 300));
    return { page, ...formOn(page.text) };
  };
  /** Signs in on the login page; returns where the browser ends (a page, or the redirect URI). */
  const signIn = async (browser: HttpBrowser, clientId: 'pages-web' | 'pages-partner' = 'pages-web', extra: Record<string, string> = {}) => {
    const { action, csrf } = await loginPage(browser, clientId, extra);
    const posted = await browser.request(new URL(action, issuer), { method: 'POST', form: { csrf, username: alice.username, password: alice.password } });
    assert.equal(posted.status, 303, posted.text.slice(0, 300));
    return browser.follow(posted.location!, clientId === 'pages-web' ? webRedirect : partnerRedirect);
  };
  /** The consent page's two forms (Allow, Deny) for the third-party app. */
  const consentForms = async (browser: HttpBrowser) => {
    const page = await signIn(browser, 'pages-partner');
    const forms = [...page.text.matchAll(/<form method="post" action="([^"]+)">\s*<input type="hidden" name="csrf" value="([^"]+)">/g)].map(([, action, csrf]) => ({ action: action!, csrf: csrf! }));
    assert.equal(forms.length, 2, 'Allow and Deny');
    return { page, allow: forms[0]!, deny: forms[1]! };
  };
  const logoutConfirmation = async (browser: HttpBrowser, query = '') => {
    const page = await browser.request(`${issuer}/session/end${query}`);
    assert.equal(page.status, 200, page.text.slice(0, 300));
    const action = /<form[^>]*action="([^"]+)"/.exec(page.text)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(action !== undefined && xsrf !== undefined, 'the logout page has its form');
    return { page, action: new URL(action, issuer).toString(), xsrf };
  };
  const post = (browser: HttpBrowser, url: string, form: Record<string, string>, origin?: string | false) =>
    browser.request(new URL(url, issuer), { method: 'POST', form, origin });

  test('every HTML page cannot be framed, is not cached, keeps tokens out of the Referer and runs no script but its own', async () => {
    const pages: [string, Response][] = [];

    // auth's own pages
    const browser = new HttpBrowser();
    const login = await loginPage(browser);
    pages.push(['login page', login.page]);
    pages.push(['login page after a wrong password', await post(browser, login.action, { csrf: login.csrf, username: alice.username, password: 'wrong-password' })]);
    pages.push(['sign-in form refused (foreign origin)', await post(browser, login.action, { csrf: login.csrf, username: alice.username, password: alice.password }, foreign)]);
    pages.push(['expired interaction', await new HttpBrowser().request(`${issuer}/interaction/no-such-interaction`)]);
    pages.push(['consent page', (await consentForms(new HttpBrowser())).page]);

    // pages oidc-provider renders
    pages.push(['provider error page', await new HttpBrowser().request(authorizeUrl('pages-web', { redirect_uri: 'https://evil.example/cb' }))]);
    pages.push(['authorization response (response_mode=form_post)', await signIn(new HttpBrowser(), 'pages-web', { response_mode: 'form_post' })]);
    const signedIn = new HttpBrowser();
    await signIn(signedIn);
    const logout = await logoutConfirmation(signedIn);
    pages.push(['logout confirmation', logout.page]);
    pages.push(['logout refused (foreign origin)', await post(signedIn, logout.action, { xsrf: logout.xsrf, logout: 'yes' }, foreign)]);
    const loggedOut = await post(signedIn, logout.action, { xsrf: logout.xsrf, logout: 'yes' });
    assert.equal(loggedOut.status, 303);
    pages.push(['signed-out page', await signedIn.request(loggedOut.location!)]);
    pages.push(['logout without a session (form_post)', await new HttpBrowser().request(`${issuer}/session/end`)]);

    // users' emailed-link pages
    const user = new HttpBrowser();
    pages.push(['verify-email page', await user.request(`${origin}/users/verify-email?token=abc`)]);
    pages.push(['verify-email refused token', await post(user, `${origin}/users/verify-email`, { token: 'abc' })]);
    pages.push(['verify-email refused (foreign origin)', await post(user, `${origin}/users/verify-email`, { token: 'abc' }, foreign)]);
    pages.push(['password reset request page', await user.request(`${origin}/users/password-reset`)]);
    pages.push(['password reset requested', await post(user, `${origin}/users/password-reset`, { email: 'nobody@example.com' })]);
    pages.push(['new password page', await user.request(`${origin}/users/password-reset/confirm?token=abc`)]);
    pages.push(['new password refused token', await post(user, `${origin}/users/password-reset/confirm`, { token: 'abc', new_password: 'a-long-new-password' })]);

    for (const [name, page] of pages) assertPageHeaders(name, page);
    // The form_post pages submit themselves: their script is the one the CSP lets run.
    for (const [name, page] of pages.filter(([n]) => n.includes('form_post'))) {
      assert.equal(page.status, 200, name);
      assert.match(page.text, /<script>/, name);
    }
  });

  test('a page that is not HTML keeps headers of its own: discovery and JWKS get no page CSP', async () => {
    for (const path of ['/.well-known/openid-configuration', '/jwks']) {
      const response = await new HttpBrowser().request(`${issuer}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', /json/, path);
      assert.equal(response.headers.get('content-security-policy'), null, path);
    }
  });

  test('a sign-in form post is refused from another origin or null, and without its own interaction\'s token whatever the origin', async () => {
    const browser = new HttpBrowser();
    const first = await loginPage(browser);
    // Another sign-in, in another window (the fake browser keeps one interaction cookie).
    const elsewhere = new HttpBrowser();
    const second = await loginPage(elsewhere);
    assert.notEqual(first.action, second.action);
    const credentials = { username: alice.username, password: alice.password };
    const refusals: [string, Response][] = [
      ['foreign origin', await post(browser, first.action, { csrf: first.csrf, ...credentials }, foreign)],
      ['Origin: null', await post(browser, first.action, { csrf: first.csrf, ...credentials }, 'null')],
      ['no Origin, forged token', await post(browser, first.action, { csrf: 'forged', ...credentials }, false)],
      ['own origin, the token of another interaction', await post(browser, first.action, { csrf: second.csrf, ...credentials })],
    ];
    for (const [name, response] of refusals) {
      assert.equal(response.status, 403, name);
      assert.match(response.text, /This form was not sent from the sign-in page/, name);
    }
    assert.equal((await post(browser, first.action, credentials, false)).status, 400, 'no token at all');
    // None of it touched the interaction: its own token signs in, from our origin or from a client
    // that sends no Origin (the token is the protection).
    assert.equal((await post(browser, first.action, { csrf: first.csrf, ...credentials })).status, 303);
    assert.equal((await post(elsewhere, second.action, { csrf: second.csrf, ...credentials }, false)).status, 303);
  });

  test('consent (Allow and Deny) is refused from another origin or null, and with another interaction\'s token', async () => {
    const browser = new HttpBrowser();
    const { allow, deny } = await consentForms(browser);
    const other = await consentForms(new HttpBrowser());
    for (const form of [allow, deny]) {
      for (const [name, origin, csrf] of [['foreign origin', foreign, form.csrf], ['Origin: null', 'null', form.csrf], ['no Origin, forged token', false, 'forged'], ['another interaction\'s token', undefined, other.allow.csrf]] as const) {
        const response = await post(browser, form.action, { csrf }, origin);
        assert.equal(response.status, 403, `${form === allow ? 'Allow' : 'Deny'}: ${name}`);
        assert.match(response.text, /This form was not sent from the sign-in page/);
      }
    }
    const denied = await post(browser, deny.action, { csrf: deny.csrf });
    assert.equal(denied.status, 303);
    const back = await browser.follow(denied.location!, partnerRedirect);
    assert.equal(new URL(back.location!).searchParams.get('error'), 'access_denied');
  });

  test('the logout confirmation is refused from another origin or null, and without its token', async () => {
    const browser = new HttpBrowser();
    await signIn(browser);
    const { action, xsrf } = await logoutConfirmation(browser);
    for (const [name, origin] of [['foreign origin', foreign], ['Origin: null', 'null']] as const) {
      const response = await post(browser, action, { xsrf, logout: 'yes' }, origin);
      assert.equal(response.status, 403, name);
      assert.match(response.text, /This form was not sent from the sign-out page/);
    }
    // Any spelling of the confirmation's path the provider serves (its router ignores case and one
    // trailing slash) gets the same check.
    const path = new URL(action).pathname;
    for (const spelling of [path.toUpperCase().replace('/AUTH/', '/auth/'), `${path}/`, path.replace('confirm', 'Confirm'), `${path.replace('session', 'SESSION')}/?x=1`]) {
      for (const from of [foreign, 'null']) {
        const response = await post(browser, new URL(spelling, action).toString(), { xsrf, logout: 'yes' }, from);
        assert.equal(response.status, 403, `${spelling} from ${from}`);
      }
    }
    assert.equal((await post(browser, action, { xsrf: 'forged', logout: 'yes' }, false)).status, 400, 'a forged token');
    // Still signed in: a new authorization goes straight back to the app.
    const still = await browser.follow(authorizeUrl('pages-web'), webRedirect);
    assert.ok(still.location?.startsWith(webRedirect), 'the refused posts signed nobody out');
    const fresh = await logoutConfirmation(browser);
    const done = await post(browser, fresh.action, { xsrf: fresh.xsrf, logout: 'yes' });
    assert.equal(done.status, 303);
  });

  test('the emailed-link forms are refused from another origin or null, and the link still works from its own page', async () => {
    const bob = await platform.api.signUp();
    const address = `${bob.username}@example.com`;
    const browser = new HttpBrowser();
    const token = new URL(await mailbox.link(address, verifySubject, 'Confirm email address')).searchParams.get('token')!;
    for (const from of [foreign, 'null']) {
      const refused = await post(browser, `${origin}/users/verify-email`, { token }, from);
      assert.equal(refused.status, 403, from);
      assert.match(refused.text, /This form was not sent from a Paymesh page/);
    }
    // The check does not depend on the Content-Type: its case, its parameters, or another type.
    const contentTypes = ['Application/X-WWW-Form-Urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'APPLICATION/X-WWW-FORM-URLENCODED;charset=UTF-8', ' application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json'];
    const postAs = (path: string, form: Record<string, string>, contentType: string, from: string) => contentType === 'application/json'
      ? fetch(`${origin}${path}`, { method: 'POST', headers: { origin: from, 'content-type': contentType }, body: JSON.stringify(form), signal: AbortSignal.timeout(10_000) })
      : browser.request(`${origin}${path}`, { method: 'POST', origin: from, headers: { 'content-type': contentType }, form });
    for (const contentType of contentTypes) {
      for (const from of [foreign, 'null']) {
        assert.equal((await postAs('/users/verify-email', { token }, contentType, from)).status, 403, `${contentType} from ${from}`);
        assert.equal((await postAs('/users/password-reset', { email: address }, contentType, from)).status, 403, `${contentType} from ${from}`);
      }
    }
    assert.equal((await post(browser, `${origin}/users/verify-email`, { token })).status, 200, 'the link was not used up');
    assert.equal((await platform.api.call('GET', '/users/me', { token: bob.token })).body.email_verified, true);

    for (const from of [foreign, 'null']) assert.equal((await post(browser, `${origin}/users/password-reset`, { email: address }, from)).status, 403, from);
    assert.equal((await platform.api.call('POST', '/users/password-reset', { json: { email: address } })).status, 202);
    const resetToken = new URL(await mailbox.link(address, resetSubject, 'Choose a new password')).searchParams.get('token')!;
    for (const from of [foreign, 'null']) {
      assert.equal((await post(browser, `${origin}/users/password-reset/confirm`, { token: resetToken, new_password: 'a-forged-new-password' }, from)).status, 403, from);
      for (const contentType of contentTypes) {
        assert.equal((await postAs('/users/password-reset/confirm', { token: resetToken, new_password: 'a-forged-new-password' }, contentType, from)).status, 403, `${contentType} from ${from}`);
      }
    }
    assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: bob.username, password: bob.password } })).status, 200, 'the password is unchanged');
    assert.equal((await post(browser, `${origin}/users/password-reset/confirm`, { token: resetToken, new_password: 'the-owner-chose-this' }, false)).status, 200, 'without Origin the emailed token decides');
  });
});
