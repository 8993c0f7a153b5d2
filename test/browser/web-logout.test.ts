// Signing out of the dashboard ends the session everywhere: a person signed in in two tabs (the
// second is signed in silently, through auth's session: no click, no password) signs out in one;
// the other tab hears it at once (a BroadcastChannel) and shows none of their data; signing in
// again asks for the password. A tab whose token is revoked from elsewhere (another device, a
// password change) learns it from its live stream's end and says the session ended, by itself.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { SignedUpUser } from '@paymesh/app/testing';
import { skipWithoutChromium } from './chromium.ts';
import { dashboardSuite } from './dashboard-suite.ts';

describe('signing out of the dashboard in one tab ends the session in every tab', { skip: skipWithoutChromium() }, () => {
  const browser = dashboardSuite();
  let alice: SignedUpUser;
  let paymentId: string;

  before(async () => {
    alice = await browser.platform.api.signUp();
    const paid = await browser.platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: alice.token, json: { amount: 12, user_id: alice.id } });
    assert.equal(paid.status, 200);
    paymentId = paid.body.payment.id;
  });

  test('two tabs signed in; sign out in the first; the second says so by itself and shows nothing of the account', async () => {
    const { page: first, context } = browser;
    await browser.signIn(first, '/app/pay', alice);

    // The second tab is signed in silently through auth's session: no click, no password.
    const second = await context.newPage();
    await second.goto(`${browser.origin}/app/pay`);
    await second.getByRole('banner').getByText(`Signed in as ${alice.username}`).waitFor();
    assert.equal(await second.getByLabel('Password').count(), 0);
    assert.equal(new URL(second.url()).pathname, '/app/pay');

    await first.getByRole('button', { name: 'Sign out' }).click();
    await first.getByRole('heading', { name: 'Sign out?' }).waitFor();
    await first.getByRole('button', { name: 'Yes, sign me out' }).click();
    await first.getByRole('heading', { name: 'You have signed out', level: 1 }).waitFor();

    // The second tab learns it by itself, without a click (from the other tab, or from its live
    // stream ended for the revoked token, whichever comes first): nothing of the account stays.
    await second.getByRole('status').filter({ hasText: /^(You signed out in another tab or window\.|Your session has ended\. Please sign in again\.)$/ }).waitFor({ timeout: 10_000 });
    await second.getByRole('button', { name: 'Sign in to Paymesh' }).waitFor();
    assert.equal(await second.getByRole('banner').getByText(alice.username).count(), 0, 'no longer signed in as alice');
    assert.equal(await second.getByRole('navigation', { name: 'Main' }).count(), 0);
    assert.equal(await second.getByText(paymentId).count(), 0, 'no payment of the account is shown');
    // And signing in there asks for the password again: the session is gone at auth too.
    await second.reload();
    await second.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await second.getByLabel('Password').waitFor();
    await second.close();
  });

  test('the signed-out page tells the app\'s other tabs at once (BroadcastChannel): they forget their tokens and show nothing of the account', async () => {
    const carol = await browser.platform.api.signUp();
    const paid = await browser.platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: carol.token, json: { amount: 3, user_id: carol.id } });
    const page = await browser.context.newPage();
    await browser.signIn(page, '/app/payments', carol);
    await page.getByText(paid.body.payment.id).first().waitFor();
    const other = await browser.context.newPage();
    await other.goto(`${browser.origin}/app/signed-out`);
    await page.getByRole('status').filter({ hasText: 'You signed out in another tab or window.' }).waitFor({ timeout: 5_000 });
    assert.equal(await page.getByText(paid.body.payment.id).count(), 0, 'no payment of the account is shown');
    assert.equal(await page.getByRole('navigation', { name: 'Main' }).count(), 0);
    await Promise.all([page.close(), other.close()]);
  });

  test('a tab whose token is revoked elsewhere (a password change through the API) says the session ended by itself, showing nothing of the account', async () => {
    const bob = await browser.platform.api.signUp();
    const paid = await browser.platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: bob.token, json: { amount: 7, user_id: bob.id } });
    assert.equal(paid.status, 200);
    const page = await browser.context.newPage();
    await browser.signIn(page, '/app/payments', bob);
    await page.getByText(paid.body.payment.id).first().waitFor();
    // Another device changes the password: every session and token of the account ends.
    const changed = await browser.platform.api.call('POST', '/users/me/password', { token: bob.token, json: { current_password: bob.password, new_password: `${bob.password}-changed` } });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    // The live stream is ended for the revoked token; the page asks the session at once.
    await page.getByRole('status').filter({ hasText: 'Your session has ended. Please sign in again.' }).waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Sign in to Paymesh' }).waitFor();
    assert.equal(await page.getByText(paid.body.payment.id).count(), 0, 'no payment of the account is shown');
    await page.close();
  });
});
