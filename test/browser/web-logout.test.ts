// Signing out of the dashboard ends the session everywhere: a person signed in in two tabs (the
// second signs in through auth's session, without a password) signs out in one; the other tab's
// next request is refused (its access token was revoked with the grant, its refresh token is dead)
// and it says so in a sentence, showing none of their data; signing in again asks for the password.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { chromiumSuite, skipWithoutChromium } from './chromium.ts';

describe('signing out of the dashboard in one tab ends the session in every tab', { skip: skipWithoutChromium() }, () => {
  const browser = chromiumSuite();
  let platform: TestPlatform;
  let alice: SignedUpUser;
  let origin: string;
  let paymentId: string;

  before(async () => {
    platform = await startTestPlatform('pglite');
    origin = `http://localhost:${new URL(platform.gatewayUrl).port}`;
    alice = await platform.api.signUp();
    const paid = await platform.api.call<{ payment: { id: string } }>('POST', '/payments', { token: alice.token, json: { amount: 12, user_id: alice.id } });
    assert.equal(paid.status, 200);
    paymentId = paid.body.payment.id;
  });
  after(async () => {
    await platform?.stop();
  });

  test('two tabs signed in; sign out in the first; the second is refused at its next request and shows nothing of the account', async () => {
    const { page: first, context } = browser;
    await first.goto(`${origin}/app/pay`);
    await first.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await first.getByLabel('Username or email').fill(alice.username);
    await first.getByLabel('Password').fill(alice.password);
    await first.getByRole('button', { name: 'Sign in' }).click();
    await first.getByRole('banner').getByText(`Signed in as ${alice.username}`).waitFor();

    // The second tab signs in through auth's session: no password asked.
    const second = await context.newPage();
    await second.goto(`${origin}/app/pay`);
    await second.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await second.getByRole('banner').getByText(`Signed in as ${alice.username}`).waitFor();
    assert.equal(await second.getByLabel('Password').count(), 0);

    await first.getByRole('button', { name: 'Sign out' }).click();
    await first.getByRole('heading', { name: 'Sign out?' }).waitFor();
    await first.getByRole('button', { name: 'Yes, sign me out' }).click();
    await first.getByRole('heading', { name: 'You have signed out', level: 1 }).waitFor();

    // The second tab still holds tokens in memory: its next request is refused all the same.
    await second.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Payments', exact: true }).click();
    await second.getByText(/Your session has (ended|expired)\. Please sign in again\./).waitFor();
    assert.equal(await second.getByText(paymentId).count(), 0, 'no payment of the account is shown');
    // And signing in there asks for the password again: the session is gone at auth too.
    await second.reload();
    await second.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await second.getByLabel('Password').waitFor();
    await second.close();
  });
});
