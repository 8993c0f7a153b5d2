// Signing out of the dashboard ends the session everywhere: a person signed in in two tabs (the
// second is signed in silently, through auth's session: no click, no password) signs out in one;
// the other tab's next request is refused (its access token was revoked with the grant, its
// refresh token is dead, and the silent sign-in that follows finds no session at auth) and it says
// so in a sentence, showing none of their data; signing in again asks for the password.
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

  test('two tabs signed in; sign out in the first; the second is refused at its next request and shows nothing of the account', async () => {
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

    // The second tab still holds tokens in memory: its next request is refused all the same.
    await second.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments', exact: true }).click();
    await second.getByRole('status').filter({ hasText: 'Your session has ended. Please sign in again.' }).waitFor();
    await second.getByRole('button', { name: 'Sign in to Paymesh' }).waitFor();
    assert.equal(new URL(second.url()).pathname, '/app/payments', 'still on the page it was going to');
    assert.equal(await second.getByText(paymentId).count(), 0, 'no payment of the account is shown');
    // And signing in there asks for the password again: the session is gone at auth too.
    await second.reload();
    await second.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await second.getByLabel('Password').waitFor();
    await second.close();
  });
});
