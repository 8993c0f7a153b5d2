// The dashboard's account pages in Chromium, as a newcomer uses them: they create an account on
// /app/sign-up (the password rules ticked as they type, the API's refusal on the field it names),
// confirm their address from the emailed link (the users service's own page, which links back to
// the dashboard), sign in, see their username on the profile page, change their display name, fail
// and then succeed at changing their password (the wrong current password is said on that field),
// sign out and sign in with the new password. A forgotten password is asked for from the
// dashboard. A new email address is confirmed from the link sent to it (sent again on request).
// axe-core finds nothing serious or critical on any of these pages.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { resetSubject, verifySubject } from '../mailed-links.ts';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite, signInOnAuthsPage as fillAuthsPage } from './dashboard-suite.ts';

describe('the dashboard\'s account pages in a real browser', { skip: skipWithoutChromium() }, () => {
  const browser = dashboardSuite({ mailbox: true });

  const signInOnAuthsPage = async (page: Page, username: string, password: string) => {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await fillAuthsPage(page, username, password);
  };

  test('sign up → confirm the address from the email → sign in → profile → change the display name → change the password (a wrong current one is said on its field) → sign out and sign in with the new one', async () => {
    const { page } = browser;
    const username = `web_${Date.now().toString(36)}`;
    const email = `${username}@example.com`;
    const password = `orchard lantern ${username} quietly`;
    const newPassword = `a brand new one for ${username}`;

    // The signed-out home offers to create an account.
    await page.goto(`${browser.origin}/`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your Paymesh account' }).waitFor();
    assert.equal(await page.title(), 'Create an account · Paymesh');
    assert.equal(new URL(page.url()).pathname, '/app/sign-up');

    // The rules are ticked as the person types.
    const rules = page.getByRole('list').filter({ hasText: 'At least 8 characters' });
    await page.getByLabel('Username').fill(username);
    await page.getByLabel('Email address').fill(email);
    await page.getByLabel('Password', { exact: true }).fill('short');
    assert.match(await rules.getByRole('listitem').filter({ hasText: 'At least 8 characters' }).innerText(), /not yet/);
    assert.deepEqual(await seriousAxeViolations(page), [], 'the sign-up page');
    // The browser refuses what it can tell at once, on the field.
    await page.getByRole('button', { name: 'Create account' }).click();
    assert.match(await page.locator('#sign-up-password-error').innerText(), /does not meet the rules/);
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    // The API refuses a common password: its sentence goes on the password field (param: password).
    await page.getByLabel('Password', { exact: true }).fill('password123');
    assert.match(await rules.getByRole('listitem').filter({ hasText: 'At least 8 characters' }).innerText(), /done/);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#sign-up-password-error').filter({ hasText: /among the most common ones/ }).waitFor();
    // A malformed username: the API's sentence on the username field.
    await page.getByLabel('Username').fill('no spaces allowed');
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.locator('#sign-up-username-error').filter({ hasText: /3 to 64 letters/ }).waitFor();
    assert.equal(await page.locator('#sign-up-password-error').innerText(), '', 'the earlier error is gone');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the sign-up page with errors');

    await page.getByLabel('Username').fill(username);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    assert.match(await page.locator('main').innerText(), new RegExp(`We sent a link to ${email}`));
    assert.deepEqual(await seriousAxeViolations(page), [], 'the check-your-email page');

    // The emailed link opens the users service's page; confirming links back to the dashboard.
    await page.goto(await browser.mailbox.link(email, verifySubject, 'Confirm email address'));
    await page.getByRole('heading', { name: 'Confirm your email address' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the confirm page');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    assert.match(await page.locator('main').innerText(), new RegExp(`${email} is confirmed`));
    await page.getByRole('link', { name: 'Go to your Paymesh dashboard' }).click();

    // Sign in, then the profile: the username, the confirmed address.
    await page.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'auth\'s sign-in page, in the app\'s look');
    await signInOnAuthsPage(page, username, password);
    const header = page.getByRole('banner');
    await header.getByText(`Signed in as ${username}`).waitFor();
    await header.getByRole('link', { name: 'Profile' }).click();
    await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
    await page.getByTestId('profile-username').filter({ hasText: username }).waitFor();
    assert.equal(await page.title(), 'Profile · Paymesh');
    assert.match(await page.locator('dl').innerText(), /Confirmed/);
    assert.equal(await page.locator('dl time').count(), 1, 'when the account was made');
    assert.ok((await page.locator('dl time').getAttribute('title'))!.length > 0, 'the exact time on hover');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the profile page');

    // The display name.
    const nameForm = page.getByRole('form', { name: 'Display name' });
    await nameForm.getByLabel('Display name').fill('Ana Silva');
    await nameForm.getByRole('button', { name: 'Save display name' }).click();
    await page.getByRole('status').filter({ hasText: 'Your display name is saved.' }).waitFor();
    assert.match(await page.locator('dl').innerText(), /Ana Silva/);

    // The password: a wrong current one is said on that field; then the change.
    const passwordForm = page.getByRole('form', { name: 'Password' });
    await passwordForm.getByLabel('Current password').fill('not my password');
    await passwordForm.getByLabel('New password').fill(newPassword);
    await passwordForm.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#profile-password-current_password-error').filter({ hasText: 'The current password is not right.' }).waitFor();
    assert.equal(await passwordForm.getByLabel('Current password').getAttribute('aria-invalid'), 'true');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the profile page with an error');
    await passwordForm.getByLabel('Current password').fill(password);
    await passwordForm.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('heading', { name: 'Your password was changed' }).waitFor();
    assert.equal((await browser.platform.api.call('POST', '/auth/login', { json: { username, password } })).status, 401, 'the old password no longer works');

    // Sign out, and sign in with the new password.
    await header.getByRole('button', { name: 'Sign out' }).click();
    const signOut = page.getByRole('button', { name: 'Yes, sign me out' });
    await Promise.race([signOut.waitFor().then(() => signOut.click()), page.waitForURL(`${browser.origin}/app/signed-out`)]);
    await page.getByRole('heading', { name: 'You have signed out' }).waitFor();
    await page.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await signInOnAuthsPage(page, username, newPassword);
    await header.getByText(`Signed in as ${username}`).waitFor();
  });

  test('a forgotten password is asked for from the dashboard; the emailed link sets a new one and leads back to the dashboard', async () => {
    const { page } = browser;
    const user = await browser.platform.api.signUp();
    const address = `${user.username}@example.com`;
    await page.goto(`${browser.origin}/`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the forgot-password page');
    await page.getByLabel("Your account's email address").fill('not an address');
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.locator('#forgot-email-error').filter({ hasText: 'That is not a valid email address.' }).waitFor();
    await page.getByLabel("Your account's email address").fill(address);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.getByRole('heading', { name: 'Check your email' }).waitFor();
    assert.match(await page.locator('main').innerText(), /a link to reset its password is on its way/);

    await page.goto(await browser.mailbox.link(address, resetSubject, 'Choose a new password'));
    const chosen = `another fine one for ${user.username}`;
    await page.getByLabel('New password').fill(chosen);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    await page.getByRole('link', { name: 'Go to your Paymesh dashboard' }).click();
    await page.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await signInOnAuthsPage(page, user.username, chosen);
    await page.getByRole('banner').getByText(`Signed in as ${user.username}`).waitFor();
  });

  test('changing the email address: the link goes to the new address, can be sent again, and following it makes the new address the confirmed one', async () => {
    const { page } = browser;
    const user = await browser.platform.api.signUp();
    const newAddress = `${user.username}.new@example.com`;
    await browser.signIn(page, '/app/settings/profile', user);
    const emailForm = page.getByRole('form', { name: 'Email address' });
    await emailForm.getByLabel('New email address').fill(newAddress);
    // A wrong password is said on its field, and nothing changes.
    await emailForm.getByLabel('Current password').fill('not my password');
    await emailForm.getByRole('button', { name: 'Change email address' }).click();
    await page.locator('#profile-email-current_password-error').filter({ hasText: /\S/ }).waitFor();
    await emailForm.getByLabel('Current password').fill(user.password);
    await emailForm.getByRole('button', { name: 'Change email address' }).click();
    await page.getByRole('status').filter({ hasText: `A link to confirm ${newAddress} is on its way.` }).waitFor();
    assert.match(await page.locator('dl').innerText(), new RegExp(`Waiting for confirmation\\s+${newAddress.replace(/\./g, '\\.')}`));
    assert.deepEqual(await seriousAxeViolations(page), [], 'the profile page with an address waiting');

    // The link again (the first mail was lost, say): a second message to the new address.
    await page.getByRole('button', { name: 'Send the confirmation link again' }).click();
    await page.getByRole('status').filter({ hasText: `A new confirmation link is on its way to ${newAddress}.` }).waitFor();
    const link = await browser.mailbox.link(newAddress, verifySubject, 'Confirm email address', 2);

    // Following it (a new page load: the app then signs in again silently) confirms the address.
    await page.goto(link);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Done' }).waitFor();
    await page.goto(`${browser.origin}/app/settings/profile`);
    await page.getByTestId('profile-username').waitFor();
    const summary = await page.locator('dl').innerText();
    assert.match(summary, new RegExp(`${newAddress.replace(/\./g, '\\.')}\\s+Confirmed`));
    assert.doesNotMatch(summary, /Waiting for confirmation/);
    assert.equal(await page.getByRole('button', { name: 'Send the confirmation link again' }).count(), 0);
    const me = await browser.platform.api.call<{ email: string; email_verified: boolean }>('GET', '/users/me', { token: user.token });
    assert.deepEqual([me.body.email, me.body.email_verified], [newAddress, true]);
  });
});
