// The wallet and saved cards pages in Chromium: a person signs in, tops up their wallet with
// 25.00 from the test processor's 4242 card and sees the balance become $25.00; a declined card's
// reason is shown on the form and nothing is added; they save a card (listed with its brand and
// last 4 digits) and delete it after confirming in the dialog; axe-core finds nothing serious on
// either page.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { SignedUpUser } from '@paymesh/app/testing';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite } from './dashboard-suite.ts';

const expiry = `12/${String((new Date().getFullYear() + 3) % 100).padStart(2, '0')}`;

describe('the wallet and saved cards pages in a real browser', { skip: skipWithoutChromium() }, () => {
  const browser = dashboardSuite();
  let alice: SignedUpUser;

  before(async () => {
    alice = await browser.platform.api.signUp();
  });

  test('top up 25.00 with 4242: the balance shows $25.00; a declined card\'s reason shows; save a card, listed with its brand and last 4, delete it: gone; axe-core on both pages', async () => {
    const { page } = browser;
    await browser.signIn(page, '/app/wallet', alice);
    await page.getByRole('heading', { name: 'Wallet', level: 1 }).waitFor();
    const balance = page.getByRole('region', { name: 'Balance' });
    await balance.getByText('Your wallet is empty.').waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the empty wallet');

    await page.getByLabel('Amount').fill('25.00');
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiry date (MM/YY)').fill(expiry);
    await page.getByLabel('Security code (CVC)').fill('123');
    await page.getByRole('button', { name: 'Top up' }).click();
    await page.getByText('Added $25.00 from your Visa ending in 4242. Your balance is now $25.00.').waitFor();
    assert.match(await balance.innerText(), /\$25\.00/);

    // A declined card: its reason on the form, the balance unchanged.
    await page.getByLabel('Amount').fill('10');
    await page.getByLabel('Card number').fill('4000 0000 0000 0002');
    await page.getByLabel('Security code (CVC)').fill('123');
    await page.getByRole('button', { name: 'Top up' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'declined' });
    await alert.waitFor();
    assert.equal(await alert.innerText(), 'Your card was declined by your bank. Try another card, or contact your bank.');
    assert.match(await balance.innerText(), /\$25\.00/);
    const wallet = await browser.platform.api.call<{ balances: { available: number }[] }>('GET', '/wallet', { token: alice.token });
    assert.deepEqual(wallet.body.balances.map((b) => b.available), [2500]);
    assert.deepEqual(await seriousAxeViolations(page), [], 'the wallet with a balance and a decline');

    // Saved cards: none, then one saved, then deleted after confirming.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cards' }).click();
    await page.getByRole('heading', { name: 'Saved cards', level: 1 }).waitFor();
    await page.getByRole('status').filter({ hasText: 'You have no saved cards.' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'no saved cards');
    await page.getByLabel('Card number').fill('5555 5555 5555 4444');
    await page.getByLabel('Expiry date (MM/YY)').fill(expiry);
    await page.getByLabel('Security code (CVC)').fill('321');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.getByRole('status').filter({ hasText: 'Your Mastercard ending in 4444 was saved.' }).waitFor();
    const table = page.getByRole('table', { name: 'Your saved cards' });
    const row = table.getByRole('row').filter({ hasText: '4444' });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /Mastercard/);
    assert.match(await row.innerText(), /•••• 4444/);
    assert.match(await row.innerText(), new RegExp(`12/20${expiry.slice(3)}`));
    assert.deepEqual(await seriousAxeViolations(page), [], 'a saved card');

    // Cancel first: nothing is deleted.
    await row.getByRole('button', { name: 'Delete Mastercard ending in 4444' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete your Mastercard ending in 4444?' });
    await dialog.waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the confirmation dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await row.count(), 1);
    await row.getByRole('button', { name: 'Delete Mastercard ending in 4444' }).click();
    await dialog.getByRole('button', { name: 'Delete card' }).click();
    await page.getByRole('status').filter({ hasText: 'Your Mastercard ending in 4444 was deleted. You have no saved cards.' }).waitFor();
    assert.equal(await page.getByRole('table', { name: 'Your saved cards' }).count(), 0);
    const methods = await browser.platform.api.call<{ data: unknown[] }>('GET', '/payment_methods', { token: alice.token });
    assert.deepEqual(methods.body.data, []);
  });
});
