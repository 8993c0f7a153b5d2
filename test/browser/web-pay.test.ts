// The dashboard's pay and payment pages (services/gateway/web/src/pay-page.ts,
// payment-detail-page.ts) as a person uses them in Chromium, against the platform's test card
// processor: a card that succeeds shows the payment and links to its page; a 3-D Secure card opens
// a modal dialog, labelled and holding the focus, whose confirmation completes the payment; a
// declined card says why in a sentence; a refund an administrator makes through the API is listed
// on the payment's page, reached from the payments list (filtered by status). A saved card and the
// wallet are ways to pay (and the saved card a way to top up), chosen under "Pay with". axe-core
// finds nothing serious on any of them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SignedUpUser } from '@paymesh/app/testing';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite } from './dashboard-suite.ts';

describe('paying and seeing a payment in the web dashboard', { skip: skipWithoutChromium() }, () => {
  const browser = dashboardSuite();

  /** Signs in through auth's login page, starting at `path`, and waits for the header's username. */
  const signIn = (user: SignedUpUser, path: string) => browser.signIn(browser.page, path, user);

  /** The page's width at 360 px: nothing wider than the screen (tables scroll inside their box). */
  const pageWidthAt360 = async (): Promise<number> => {
    const { page } = browser;
    await page.setViewportSize({ width: 360, height: 800 });
    const width = await page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
    await page.setViewportSize({ width: 1280, height: 800 });
    return width;
  };

  const fillCard = async (number: string) => {
    const { page } = browser;
    await page.getByLabel('Card number', { exact: true }).fill(number);
    await page.getByLabel('Expiry date (MM/YY)').fill('12/34');
    await page.getByLabel('Security code (CVC)').fill('123');
  };

  test('pay with 4242 4242 4242 4242: succeeded, with a link to the payment; a 3-D Secure card asks in a modal dialog and succeeds once confirmed; a declined card says why; mistakes are caught before sending', async () => {
    const { page } = browser;
    const alice = await browser.platform.api.signUp();
    await signIn(alice, '/app/pay');
    await page.getByRole('heading', { name: 'Pay', level: 1 }).waitFor();
    assert.equal(await page.title(), 'Pay · Paymesh');
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pay', exact: true }).getAttribute('aria-current'), 'page');
    const testCards = page.getByRole('region', { name: 'Test cards' });
    assert.match(await testCards.innerText(), /4000 0027 6000 3184/);
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the pay page');
    assert.ok(await pageWidthAt360() <= 360, 'the pay page fits 360 px');

    // Caught in the browser: more decimals than the currency has, a number failing the Luhn check.
    await page.getByLabel('Amount').fill('12.345');
    await fillCard('4242 4242 4242 4241');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.getByText('USD amounts have at most 2 decimals.').waitFor();
    await page.getByText('Your card number is incorrect.').waitFor();
    assert.equal(await page.getByLabel('Amount').getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the pay page with errors');

    // JPY has no decimals: the hint says so.
    await page.getByLabel('Currency').selectOption('JPY');
    assert.match(await page.locator('#pay-amount-hint').innerText(), /no decimals/);
    await page.getByLabel('Currency').selectOption('USD');

    // Succeeds.
    await page.getByLabel('Amount').fill('25.50');
    await page.getByLabel('Card number', { exact: true }).fill('4242424242424242');
    assert.match(await page.locator('#pay-card-number-hint').innerText(), /Visa/);
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    const succeeded = page.getByRole('region', { name: 'Payment succeeded' });
    await succeeded.waitFor();
    assert.match(await succeeded.innerText(), /\$25\.50/);
    assert.match(await succeeded.innerText(), /Visa ending in 4242/);
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the pay page after a payment');
    const { data: [paid] } = (await browser.platform.api.call<{ data: { id: string; status: string; amount: number }[] }>('GET', '/payments', { token: alice.token })).body;
    assert.equal(paid!.status, 'succeeded');
    assert.equal(paid!.amount, 2550);

    // 3-D Secure: a modal dialog, labelled, holding the focus; confirming completes the payment.
    await page.getByLabel('Amount').fill('40');
    await page.getByRole('button', { name: 'Use test card 4000 0027 6000 3184' }).click();
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Confirm the payment with your bank' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /\$40\.00/);
    assert.equal(await page.locator('dialog:modal').count(), 1, 'a modal <dialog>');
    assert.equal(await page.locator(':focus').textContent(), 'Complete authentication');
    for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab']) {
      await page.keyboard.press(key);
      assert.equal(await dialog.locator(':focus').count(), 1, 'the focus stays in the dialog');
    }
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the 3-D Secure dialog');
    await dialog.getByRole('button', { name: 'Complete authentication' }).click();
    await page.getByRole('region', { name: 'Payment succeeded' }).filter({ hasText: '$40.00' }).waitFor();
    assert.equal(await dialog.count(), 0, 'the dialog is gone');

    // Escape cancels the 3-D Secure step: the payment is not completed, and the page says so.
    await page.getByRole('button', { name: 'Use test card 4000 0027 6000 3184' }).click();
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await page.getByText('The payment was not completed: your bank still needs you to confirm it.', { exact: false }).waitFor();

    // Declined: the reason as a sentence.
    await page.getByRole('button', { name: 'Use test card 4000 0000 0000 9995' }).click();
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Your card was declined because it has insufficient funds.' }).waitFor();
    assert.equal(await page.getByRole('region', { name: 'Payment succeeded' }).count(), 0);
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the pay page after a decline');

    // The success's link leads to the payment's page.
    await page.getByLabel('Amount').fill('7');
    await page.getByRole('button', { name: 'Use test card 4242 4242 4242 4242' }).click();
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.getByRole('link', { name: 'See this payment\'s details' }).click();
    await page.getByRole('heading', { name: '$7.00 · Succeeded' }).waitFor();
    assert.match(new URL(page.url()).pathname, /^\/app\/payments\/pay_/);
  });

  test('the payment\'s page lists a refund an administrator made through the API; the payments list links to it and filters by status', async () => {
    const { page } = browser;
    const bob = await browser.platform.api.signUp();
    const paid = await browser.platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: bob.token, json: { amount: '80.00', user_id: bob.id, description: 'Concert tickets', payment_method: 'pm_card_visa' } });
    assert.equal(paid.status, 200);
    const paymentId = paid.body.payment.id;
    const canceled = await browser.platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: bob.token, json: { amount: '5.00', user_id: bob.id, confirm: false } });
    assert.equal(canceled.status, 200);
    const admin = await browser.platform.api.adminToken();
    const refund = await browser.platform.api.call<{ id: string }>('POST', `/payments/${paymentId}/refunds`, { token: admin, json: { amount: '30.00', reason: 'requested_by_customer' } });
    assert.equal(refund.status, 200);

    await signIn(bob, '/app/payments');
    const table = page.getByRole('table', { name: 'Your payments' });
    await table.waitFor();
    assert.equal(await table.getByRole('row').count(), 3, 'a header and two payments');
    await page.getByLabel('Status').selectOption('succeeded');
    await page.getByRole('status').filter({ hasText: 'Showing 1 payment, page 1.' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the filtered payments list');
    await table.getByRole('link', { name: paymentId }).click();

    await page.getByRole('heading', { name: 'Payment', level: 1 }).waitFor();
    assert.equal(new URL(page.url()).pathname, `/app/payments/${paymentId}`);
    const facts = page.getByRole('region', { name: '$80.00 · Succeeded' });
    await facts.waitFor();
    const text = await facts.innerText();
    assert.match(text, /Concert tickets/);
    assert.match(text, /Visa ending in 4242/);
    assert.match(text, /Refunded\s+\$30\.00/);
    const refunds = page.getByRole('table', { name: 'Refunds of this payment' });
    const row = refunds.getByRole('row').filter({ hasText: refund.body.id });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /\$30\.00/);
    assert.match(await row.innerText(), /Requested by the customer/);
    const created = page.locator('time').first();
    assert.match((await created.getAttribute('title')) ?? '', /\d{4}/, 'the exact time on hover');
    assert.deepEqual(await seriousAxeViolations(browser.page), [], 'the payment\'s page');
    assert.ok(await pageWidthAt360() <= 360, 'the payment\'s page fits 360 px');

    // Another payment's page with no refunds says so; an unknown id is a sentence, not JSON.
    // (A new page load forgets the tokens: the app signs in again silently.)
    await page.goto(`${browser.origin}/app/payments/${canceled.body.payment.id}`);
    await page.getByText('This payment has no refunds.').waitFor();
    await page.getByRole('link', { name: 'Back to your payments' }).click();
    await table.waitFor();
  });

  test('a saved card and the wallet are ways to pay; a top-up can use the saved card; a wallet too low for the payment says so', async () => {
    const { page } = browser;
    const carol = await browser.platform.api.signUp();
    const card = { number: '5555555555554444', exp_month: 12, exp_year: new Date().getFullYear() + 2, cvc: '123' };
    const saved = await browser.platform.api.call<{ id: string }>('POST', '/payment_methods', { token: carol.token, json: { card } });
    assert.equal(saved.status, 200);
    const balance = async () => (await browser.platform.api.call<{ balances: { currency: string; available: number }[] }>('GET', '/wallet', { token: carol.token })).body.balances;

    // A top-up from the saved card.
    await signIn(carol, '/app/wallet');
    const topUp = page.getByRole('form', { name: 'Top up' });
    await topUp.getByRole('radio', { name: /^Mastercard ending in 4444/ }).check();
    assert.equal(await topUp.getByLabel('Card number', { exact: true }).isVisible(), false, 'no card fields for a saved card');
    await topUp.getByLabel('Amount').fill('30.00');
    await topUp.getByRole('button', { name: 'Top up' }).click();
    await page.getByRole('status').filter({ hasText: 'Added $30.00 from your Mastercard ending in 4444.' }).waitFor();
    assert.deepEqual((await balance()).map((b) => [b.currency, b.available]), [['usd', 3000]]);

    // Pay with the saved card, then from the wallet.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pay', exact: true }).click();
    await page.getByRole('heading', { name: 'Pay', level: 1 }).waitFor();
    const payWith = page.getByRole('group', { name: 'Pay with' });
    await payWith.getByRole('radio', { name: /^Mastercard ending in 4444/ }).check();
    await page.getByLabel('Amount').fill('12.00');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.getByRole('region', { name: 'Payment succeeded' }).filter({ hasText: 'Mastercard ending in 4444' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the pay page with saved cards and the wallet');

    await payWith.getByRole('radio', { name: /^Your wallet/ }).check();
    assert.equal(await payWith.getByRole('radio', { name: 'Your wallet ($30.00)' }).count(), 1, 'the balance beside the choice');
    await page.getByLabel('Amount').fill('20.00');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    const paid = page.getByRole('region', { name: 'Payment succeeded' }).filter({ hasText: '$20.00' });
    await paid.waitFor();
    assert.match(await paid.innerText(), /Paid from\s+Your wallet/);
    assert.deepEqual((await balance()).map((b) => [b.currency, b.available]), [['usd', 1000]]);

    // $10.00 left: $15.00 from the wallet is refused with the reason, and nothing moves.
    await page.getByLabel('Amount').fill('15.00');
    await page.getByRole('button', { name: 'Pay', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: /balance is too low/ }).waitFor();
    assert.deepEqual((await balance()).map((b) => [b.currency, b.available]), [['usd', 1000]]);
  });
});
