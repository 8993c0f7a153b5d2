// Every page of the dashboard, as a customer, an administrator and a signed-out visitor see it, at
// a phone's size (390×844) and a laptop's (1366×768): each is checked with axe-core (no serious or
// critical violation) and photographed into SCREENSHOTS_DIR (default var/screenshots/, the CI
// artifacts the README names). README's two pictures are taken from these (docs/screenshots/).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { adminPassword } from '@paymesh/app/testing';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite } from './dashboard-suite.ts';

const screenshotsDir = resolve(process.env.SCREENSHOTS_DIR ?? resolve(import.meta.dirname, '../../var/screenshots'));
const sizes = [{ name: 'phone', width: 390, height: 844 }, { name: 'laptop', width: 1366, height: 768 }] as const;

describe('every page of the dashboard at a phone\'s and a laptop\'s size: no serious accessibility violation, and a screenshot of each', { skip: skipWithoutChromium() }, () => {
  const browser = dashboardSuite();

  before(async () => {
    mkdirSync(screenshotsDir, { recursive: true });
  });

  const signIn = (page: Page, username: string, password: string) => browser.signIn(page, '/', { username, password });

  /** Opens `path` inside the app (no reload: the session is in memory), checks it at both sizes and photographs it. */
  const visit = async (page: Page, name: string, path: string, heading: string | RegExp, problems: string[]) => {
    await page.evaluate((to) => {
      const link = Object.assign((globalThis as unknown as { document: { createElement: (tag: string) => { href: string; click: () => void } } }).document.createElement('a'), { href: to });
      (globalThis as unknown as { document: { getElementById: (id: string) => { append: (node: unknown) => void } } }).document.getElementById('app').append(link);
      link.click();
      (link as unknown as { remove: () => void }).remove();
    }, path);
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
    // Loading states settle before the picture (lists, the inbox's stream).
    await page.waitForFunction(() => !(globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText.includes('Loading'), undefined, { timeout: 10_000 }).catch(() => undefined);
    for (const size of sizes) {
      await page.setViewportSize({ width: size.width, height: size.height });
      for (const violation of await seriousAxeViolations(page)) problems.push(`${name} (${size.name}): ${violation}`);
      const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
      if (width > size.width) problems.push(`${name} (${size.name}): ${width} px wide, wider than the screen`);
      await page.screenshot({ path: join(screenshotsDir, `${name}-${size.width}x${size.height}.png`), fullPage: true });
    }
  };

  test('a customer\'s pages, an administrator\'s and a visitor\'s', async () => {
    const { page } = browser;
    const problems: string[] = [];
    const alice = await browser.platform.api.signUp();
    const paid = await browser.platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: alice.token, json: { amount: '42.50', user_id: alice.id, description: 'Concert tickets' } });
    assert.equal(paid.status, 200);
    await browser.platform.api.call('POST', '/payments', { token: alice.token, json: { amount: 1200, user_id: alice.id, description: 'Rent' } });
    const adminToken = await browser.platform.api.adminToken();
    const refund = await browser.platform.api.call('POST', `/payments/${paid.body.payment.id}/refunds`, { token: adminToken, json: { amount: '10.00' } });
    assert.equal(refund.status, 200);

    await page.setViewportSize({ width: 1366, height: 768 });
    await page.goto(`${browser.origin}/`);
    await page.getByRole('heading', { name: 'Welcome to Paymesh', level: 1 }).waitFor();
    for (const violation of await seriousAxeViolations(page)) problems.push(`signed-out home: ${violation}`);
    await page.screenshot({ path: join(screenshotsDir, 'signed-out-1366x768.png') });
    await visit(page, 'sign-up', '/app/sign-up', 'Create your Paymesh account', problems);
    await visit(page, 'forgot-password', '/app/forgot-password', /Forgot your password/, problems);

    await signIn(page, alice.username, alice.password);
    await visit(page, 'payments', '/app/payments', 'Payments', problems);
    await visit(page, 'payment', `/app/payments/${paid.body.payment.id}`, 'Payment', problems);
    await visit(page, 'pay', '/app/pay', 'Pay', problems);
    await visit(page, 'inbox', '/app/inbox', 'Inbox', problems);
    await visit(page, 'notification-preferences', '/app/settings/notifications', /Notification preferences/, problems);
    await visit(page, 'profile', '/app/settings/profile', 'Profile', problems);
    await visit(page, 'wallet', '/app/wallet', 'Wallet', problems);
    await visit(page, 'cards', '/app/cards', 'Saved cards', problems);
    await visit(page, 'webhooks', '/app/settings/webhooks', 'Webhook endpoints', problems);
    await visit(page, 'devices', '/app/settings/devices', 'Push devices', problems);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // auth asks to confirm on its own page (photographed too: it has the app's look).
    await page.getByRole('heading', { name: 'Sign out?' }).waitFor();
    for (const violation of await seriousAxeViolations(page)) problems.push(`auth's sign-out page: ${violation}`);
    await page.screenshot({ path: join(screenshotsDir, 'auth-sign-out-1366x768.png') });
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.getByRole('heading', { name: 'You have signed out', level: 1 }).waitFor();

    // auth's sign-in page, in the app's look.
    await page.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await page.getByLabel('Username or email').waitFor();
    for (const violation of await seriousAxeViolations(page)) problems.push(`auth's sign-in page: ${violation}`);
    await page.screenshot({ path: join(screenshotsDir, 'auth-sign-in-1366x768.png') });
    await signIn(page, 'admin', adminPassword);
    await visit(page, 'admin-users', '/app/admin/users', 'Users', problems);
    await visit(page, 'admin-user', `/app/admin/users/${alice.id}`, new RegExp(alice.username), problems);
    await visit(page, 'admin-ledger', '/app/admin/ledger', /Ledger/, problems);
    assert.deepEqual(problems, [], 'serious or critical accessibility violations, or a page wider than the screen');
  });
});
