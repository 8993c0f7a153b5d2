// The dashboard's admin pages in Chromium: the admin signs in on Paymesh's login page, finds a
// user by a prefix of their name, disables and re-enables them (the API agrees), opens their
// payments, refunds part of one in the modal dialog (the refund and the payment's new refunded
// amount shown, the API agrees), and sees the ledger's invariants hold; axe-core finds nothing
// serious on any of these pages or the dialog. A user who is not an admin sees no admin links, and
// the admin pages are "Page not found" to them (the APIs refuse them anyway).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { adminPassword, type SignedUpUser } from '@paymesh/app/testing';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite } from './dashboard-suite.ts';

describe('the dashboard\'s admin pages in a real browser', { skip: skipWithoutChromium() }, () => {
  const browser = dashboardSuite();
  let carol: SignedUpUser;
  let adminToken: string;
  let paymentId: string;

  before(async () => {
    carol = await browser.platform.api.signUp();
    adminToken = await browser.platform.api.adminToken();
    const paid = await browser.platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: carol.token, json: { amount: '40.00', user_id: carol.id, description: 'Headphones' } });
    assert.equal(paid.status, 200);
    paymentId = paid.body.payment.id;
  });

  const signIn = (page: Page, path: string, username: string, password: string) => browser.signIn(page, path, { username, password });

  const carolStatus = async () => (await browser.platform.api.call<{ status: string }>('GET', `/users/${carol.id}`, { token: adminToken })).body.status;

  test('the admin finds a user, disables and re-enables them, refunds part of their payment and sees the ledger status', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 1366, height: 768 });
    await signIn(page, '/', 'admin', adminPassword);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/app/admin/users');
    assert.equal(await page.title(), 'Users · Paymesh');
    await page.getByRole('table', { name: 'Users' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the users page');

    // Search by a prefix of the username: carol's row only.
    await page.getByLabel('Username or email starts with').fill(carol.username.slice(0, -2));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('status').filter({ hasText: 'Showing 1 user, page 1.' }).waitFor();
    const row = page.getByRole('table', { name: 'Users' }).getByRole('row').filter({ hasText: carol.username });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /Active/);
    assert.match(new URL(page.url()).search, /q=/, 'the search is in the address');

    // Disable, then enable: the row and the API say so each time.
    await row.getByRole('button', { name: `Disable ${carol.username}` }).click();
    await row.getByText(`${carol.username} is disabled.`).waitFor();
    assert.match(await row.innerText(), /Disabled/);
    assert.equal(await carolStatus(), 'disabled');
    await row.getByRole('button', { name: `Enable ${carol.username}` }).click();
    await row.getByText(`${carol.username} is enabled.`).waitFor();
    assert.equal(await carolStatus(), 'active');

    // Delete asks first; cancelling deletes nothing.
    await row.getByRole('button', { name: `Delete ${carol.username}` }).click();
    const confirm = page.getByRole('dialog', { name: `Delete ${carol.username}?` });
    await confirm.waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the delete confirmation');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    assert.equal(await carolStatus(), 'active');

    // Their page: the account and their payments.
    await row.getByRole('link', { name: carol.username }).click();
    await page.getByRole('heading', { name: carol.username, level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/app/admin/users/${carol.id}`);
    const payments = page.getByRole('table', { name: 'The user\'s payments' });
    await payments.waitFor();
    const paymentRow = payments.getByRole('row').filter({ hasText: paymentId });
    assert.match(await paymentRow.innerText(), /Headphones/);
    assert.match(await paymentRow.innerText(), /\$40\.00/);
    const created = await paymentRow.locator('time').first();
    assert.ok((await created.getAttribute('title'))!.length > 0, 'the exact time on hover');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the user\'s page');

    // Refund part of it: an amount beyond what is left is refused on the field; 15.50 goes through.
    await paymentRow.getByRole('button', { name: `Refund ${paymentId}` }).click();
    const dialog = page.getByRole('dialog', { name: `Refund payment ${paymentId}` });
    await dialog.waitFor();
    const amount = dialog.getByLabel('Amount to refund (USD)');
    assert.equal(await amount.inputValue(), '40.00', 'the whole amount left by default');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the refund dialog');
    await amount.fill('50');
    await dialog.getByRole('button', { name: 'Refund' }).click();
    await dialog.locator('#refund-amount[aria-invalid="true"]').waitFor();
    assert.match(await dialog.locator('#refund-amount-error').innerText(), /\S/, 'the API\'s sentence on the amount field');
    assert.doesNotMatch(await dialog.innerText(), /[{}]/, 'no JSON');
    await amount.fill('15.50');
    await dialog.getByLabel('Reason').selectOption('requested_by_customer');
    await dialog.getByRole('button', { name: 'Refund' }).click();
    await dialog.getByText(/^Refund re_\S+ of \$15\.50 succeeded\.$/).waitFor();
    assert.equal(await dialog.getByTestId('refunded-now').innerText(), '$15.50');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the refund done');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.match(await paymentRow.innerText(), /\$15\.50/, 'the row shows the refunded amount');
    const refunds = await browser.platform.api.call<{ data: { amount: number; reason: string }[] }>('GET', `/payments/${paymentId}/refunds`, { token: adminToken });
    assert.deepEqual(refunds.body.data.map((r) => [r.amount, r.reason]), [[1550, 'requested_by_customer']]);

    // The ledger: every invariant holds.
    await nav.getByRole('link', { name: 'Ledger' }).click();
    await page.getByRole('heading', { name: 'Ledger status', level: 1 }).waitFor();
    assert.equal(await page.getByTestId('ledger-status').innerText(), 'Every invariant holds.');
    assert.match(await page.getByText(/^Last checked /).innerText(), /ago|now/);
    assert.deepEqual(await seriousAxeViolations(page), [], 'the ledger page');

    // At 360 px the pages still fit: nothing wider than the window.
    await page.setViewportSize({ width: 360, height: 740 });
    await nav.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('table', { name: 'Users' }).waitFor();
    assert.ok(await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth + 1'), 'no sideways scrolling at 360 px');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the users page at 360 px');
  });

  test('a user who is not an admin sees no admin links, and the admin pages are not found', async () => {
    const { page } = browser;
    await signIn(page, '/app/admin/users', carol.username, carol.password);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.getByRole('link', { name: 'Payments' }).count(), 1);
    assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0);
    assert.equal(await nav.getByRole('link', { name: 'Ledger' }).count(), 0);
    assert.deepEqual(await seriousAxeViolations(page), [], 'page not found');
    for (const path of ['/app/admin/ledger', `/app/admin/users/${carol.id}`]) {
      // As a link inside the app would (no reload: the same signed-in session).
      await page.evaluate(`history.pushState(null, '', ${JSON.stringify(path)}); dispatchEvent(new PopStateEvent('popstate'))`);
      await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    }
  });
});
