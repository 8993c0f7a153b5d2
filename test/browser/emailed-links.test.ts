// The emailed links, followed in Chromium as a person does: confirm an address, reset a forgotten
// password. The pages' form posts carry a real Origin and the Referer never carries the token.
// The rules behind the links (single use, expiry, who gets mail) are in
// services/users/test/email-verification.test.ts and password-reset.test.ts; forged posts in
// test/html-pages.test.ts.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { Page, Request } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { openMailbox, resetSubject, verifySubject, type Mailbox } from '../mailed-links.ts';
import { chromiumSuite, skipWithoutChromium } from './chromium.ts';

describe('following the emailed links in a real browser', { skip: skipWithoutChromium() }, () => {
  const browser = chromiumSuite();
  let mailbox: Mailbox;
  let platform: TestPlatform;
  let publicUrl: string;
  let page: Page;
  let posts: Request[];

  before(async () => {
    mailbox = await openMailbox();
    platform = await startTestPlatform('pglite', { env: { SMTP_URL: mailbox.smtpUrl } });
    publicUrl = `http://localhost:${new URL(platform.gatewayUrl).port}`;
  });
  after(async () => {
    await platform?.stop();
    await mailbox?.close();
  });
  beforeEach(() => {
    page = browser.page;
    posts = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(request);
    });
  });

  /** Every form post the page made came from our origin, and told it nothing more than that origin. */
  const assertPostsFromOurOrigin = async () => {
    assert.ok(posts.length > 0);
    for (const post of posts) {
      assert.equal(await post.headerValue('origin'), publicUrl);
      assert.equal(await post.headerValue('referer'), `${publicUrl}/`, 'the token in the link is not in the Referer');
    }
  };

  test('a person confirms their address by opening the emailed link and pressing Confirm', async () => {
    const user = await platform.api.signUp();
    const link = await mailbox.link(`${user.username}@example.com`, verifySubject, 'Confirm email address');
    await page.goto(link);
    await page.getByRole('heading', { name: 'Confirm your email address' }).waitFor();
    assert.equal((await platform.api.call('GET', '/users/me', { token: user.token })).body.email_verified, false, 'opening the link confirms nothing');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    assert.match(await page.locator('main').innerText(), new RegExp(`${user.username}@example.com is confirmed`));
    assert.equal((await platform.api.call('GET', '/users/me', { token: user.token })).body.email_verified, true);
    await assertPostsFromOurOrigin();
  });

  test('a person resets a forgotten password: asks on the reset page, opens the emailed link, is told why a common password is refused, chooses another and signs in with it', async () => {
    const user = await platform.api.signUp();
    const address = `${user.username}@example.com`;
    await page.goto(`${publicUrl}/users/password-reset`);
    await page.getByLabel("Your account's email address").fill(address);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    assert.match(await page.locator('main').innerText(), /a link to reset its password is on its way/);

    await page.goto(await mailbox.link(address, resetSubject, 'Choose a new password'));
    await page.getByLabel('New password').fill('password123');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /among the most common ones/);
    const chosen = `a new one for ${user.username}`;
    await page.getByLabel('New password').fill(chosen);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    assert.match(await page.locator('main').innerText(), /Your password was changed/);

    assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: user.username, password: chosen } })).status, 200);
    assert.equal((await platform.api.call('POST', '/auth/login', { json: { username: user.username, password: user.password } })).status, 401);
    await assertPostsFromOurOrigin();
  });
});
