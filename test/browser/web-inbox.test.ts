// The dashboard's inbox (/app/inbox) and notification preferences (/app/settings/notifications)
// in Chromium: a payment made through the API appears in the open inbox and the header's unread
// badge counts it, without a reload (the session's one SSE stream, live-inbox.ts); a second tab
// sees the next one live too; mark read, mark all read, delete and mark unread keep the badge
// right; the tab keeps one stream however many pages it visits; a preference switched off is
// still off after a reload, a security message's cannot be; axe-core finds nothing serious.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SignedUpUser } from '@paymesh/app/testing';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite } from './dashboard-suite.ts';

describe('the inbox and notification preferences in a real browser', { skip: skipWithoutChromium() }, () => {
  const browser = dashboardSuite();
  let alice: SignedUpUser;

  before(async () => {
    alice = await browser.platform.api.signUp();
  });

  const pay = async (amount: number) => {
    const paid = await browser.platform.api.call('POST', '/payments', { token: alice.token, json: { amount, user_id: alice.id } });
    assert.equal(paid.status, 200);
  };

  /** Signs in on auth's page (the password once; later tabs are signed in silently through auth's session). */
  const signIn = async (page: Page, path: string, withPassword: boolean) => {
    if (withPassword) return browser.signIn(page, path, alice);
    await page.goto(`${browser.origin}${path}`);
    await page.getByRole('banner').getByText(`Signed in as ${alice.username}`).waitFor();
  };

  const badge = (page: Page, count: number) => count === 0
    ? page.getByRole('banner').locator('.unread-badge').waitFor({ state: 'hidden' })
    : page.getByRole('banner').getByTestId('unread-count').filter({ hasText: new RegExp(`^${count}$`) }).waitFor();
  /** Nothing wider than a 360 px phone (the preferences table may scroll inside its own box). */
  const fitsNarrowScreen = async (page: Page) => {
    await page.setViewportSize({ width: 360, height: 740 });
    const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    await page.setViewportSize({ width: 1280, height: 720 });
    assert.ok(width <= 360, `the page is ${width} px wide at 360 px`);
  };
  const items = (page: Page) => page.getByRole('list', { name: 'Notifications' }).getByRole('listitem');

  test('notifications arrive live in two tabs with the unread badge; read, unread, all read and delete keep it right; one stream per tab, ended by signing out', async () => {
    const { page, context } = browser;
    const streams: string[] = [];
    page.on('request', (request) => void (request.url().endsWith('/notifications/stream') && streams.push(request.url())));

    await signIn(page, '/app/inbox', true);
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Your inbox is empty.' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the empty inbox');
    // A mark in the page's memory: a reload would lose it.
    await page.evaluate(() => void ((globalThis as unknown as { stayed: boolean }).stayed = true));

    // A payment made through the API: its notification appears, and the badge counts it.
    await pay(12.34);
    await items(page).filter({ hasText: 'Payment received' }).waitFor();
    await badge(page, 1);
    assert.match(await items(page).first().innerText(), /\$12\.34/);
    assert.match(await items(page).first().innerText(), /now|second|minute/);
    assert.ok(await items(page).first().locator('time').getAttribute('title'), 'the exact time on hover');

    // A second tab of the same browser: signed in silently through auth's session, it sees the next one live.
    const second = await context.newPage();
    await signIn(second, '/app/inbox', false);
    await items(second).first().waitFor();
    assert.equal(await items(second).count(), 1);
    await badge(second, 1);
    await pay(5);
    await badge(page, 2);
    await badge(second, 2);
    assert.equal(await items(page).count(), 2);
    assert.equal(await items(second).count(), 2);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed), true, 'no reload');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the inbox with notifications');
    await fitsNarrowScreen(page);

    // Mark one read: both tabs' badges go down.
    await items(page).first().getByRole('button', { name: 'Mark as read' }).click();
    await badge(page, 1);
    await badge(second, 1);
    await items(page).first().getByRole('button', { name: 'Mark as unread' }).waitFor();
    // Mark all read.
    await page.getByRole('button', { name: 'Mark all as read' }).click();
    await badge(page, 0);
    await badge(second, 0);
    assert.equal(await page.getByRole('button', { name: 'Mark as read' }).count(), 0);
    // Delete one; mark the other unread again.
    await items(page).first().getByRole('button', { name: 'Delete' }).click();
    await items(page).nth(1).waitFor({ state: 'detached' });
    assert.equal(await items(page).count(), 1);
    await items(page).first().getByRole('button', { name: 'Mark as unread' }).click();
    await badge(page, 1);
    await badge(second, 1);

    // Pages come and go; the tab's one stream stays.
    await page.getByRole('link', { name: 'Notification preferences' }).click();
    await page.getByRole('heading', { name: 'Notification preferences' }).waitFor();
    await page.getByRole('link', { name: 'Payments' }).click();
    await page.getByRole('heading', { name: 'Payments' }).waitFor();
    await page.getByRole('link', { name: /^Inbox/ }).click();
    await items(page).first().waitFor();
    await badge(page, 1);
    await pay(1);
    await badge(page, 2);
    assert.equal(streams.length, 1, 'one stream for the tab');

    // Signing out in one tab ends auth's session and its grants: the other tab's stream ends too.
    const secondStreamEnded = new Promise<void>((resolve) => {
      const ended = (request: { url(): string }) => void (request.url().endsWith('/notifications/stream') && resolve());
      second.on('requestfinished', ended);
      second.on('requestfailed', ended);
    });
    await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You have signed out' }).waitFor();
    await secondStreamEnded;
    await second.close();
  });

  test('a preference switched off stays off after a reload; a security message cannot be switched off', async () => {
    const { page } = browser;
    await signIn(page, '/app/settings/notifications', true);
    const email = page.getByRole('checkbox', { name: 'Email: A payment of yours was received.' });
    await email.waitFor();
    assert.equal(await email.isChecked(), true);
    const locked = page.getByRole('checkbox', { name: 'Email: Your password was changed.' });
    assert.equal(await locked.isDisabled(), true);
    assert.equal(await locked.isChecked(), true);
    assert.match(await page.getByRole('row', { name: /Your password was changed/ }).innerText(), /cannot be switched off/);
    assert.deepEqual(await seriousAxeViolations(page), [], 'the preferences page');
    await fitsNarrowScreen(page);

    await email.uncheck();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    // A reload forgets the tokens: the app signs in again silently through auth's session.
    await page.reload();
    await email.waitFor();
    assert.equal(await email.isChecked(), false, 'still off after the reload');
    assert.equal(await page.getByRole('checkbox', { name: 'Push: A payment of yours was received.' }).isChecked(), true, 'the others unchanged');
  });
});
