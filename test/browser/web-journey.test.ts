// The dashboard's whole journey in Chromium, once per backend the suite covers (PGlite, and the
// machine's PostgreSQL when TEST_DATABASE_URL is set, as in CI): a newcomer signs up, confirms
// their address from the email the SMTP sink caught, signs in, pays with 4242 4242 4242 4242, with
// a 3-D Secure card (confirmed in the modal) and with a declined card (the reason said); their
// inbox, open in a second tab that signed in silently, shows each notification as it happens with
// the unread badge; they mark one read; an administrator, in a browser of their own, refunds part
// of the first payment; the customer's inbox shows the refund live; signing out in the first tab
// ends the second tab's session too (its stream ends and it says so by itself, and signing in
// there asks for the password again). The single pages' details are in the other web-*.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { adminPassword, backends } from '@paymesh/app/testing';
import { verifySubject } from '../mailed-links.ts';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite, signInOnAuthsPage } from './dashboard-suite.ts';

for (const backend of backends()) {
  describe(`a customer's and an administrator's journey through the dashboard (${backend})`, { skip: skipWithoutChromium() }, () => {
    const browser = dashboardSuite({ backend, mailbox: true });
    /** From the app's signed-out page. */
    const signInHere = async (page: Page, username: string, password: string) => {
      await page.getByRole('button', { name: 'Sign in to Paymesh' }).click();
      await signInOnAuthsPage(page, username, password);
      await page.getByRole('banner').getByText(`Signed in as ${username}`).waitFor();
    };
    const payWith = async (page: Page, amount: string, testCard: string) => {
      await page.getByLabel('Amount').fill(amount);
      await page.getByRole('button', { name: `Use test card ${testCard}` }).click();
      await page.getByRole('button', { name: 'Pay', exact: true }).click();
    };
    const inbox = (page: Page) => page.getByRole('list', { name: 'Notifications' }).getByRole('listitem');
    const badge = (page: Page, count: number) => page.getByRole('banner').getByTestId('unread-count').filter({ hasText: new RegExp(`^${count}$`) }).waitFor();

    test('sign up → confirm by email → sign in → pay (4242, 3-D Secure, declined) → live inbox in a second tab → mark read → the admin refunds → the refund appears live → signing out ends both tabs', async () => {
      const { page: first, context, origin, mailbox } = browser;
      const username = `journey_${backend}_${Date.now().toString(36)}`;
      const email = `${username}@example.com`;
      const password = `harbour violet ${username} slowly`;

      // Sign up, and confirm the address from the emailed link.
      await first.goto(`${origin}/`);
      await first.getByRole('link', { name: 'Create an account' }).click();
      await first.getByLabel('Username').fill(username);
      await first.getByLabel('Email address').fill(email);
      await first.getByLabel('Password', { exact: true }).fill(password);
      await first.getByRole('button', { name: 'Create account' }).click();
      await first.getByRole('heading', { name: 'Check your email' }).waitFor();
      await first.goto(await mailbox.link(email, verifySubject, 'Confirm email address'));
      await first.getByRole('button', { name: 'Confirm' }).click();
      await first.getByRole('heading', { name: 'Done' }).waitFor();
      await first.getByRole('link', { name: 'Go to your Paymesh dashboard' }).click();

      // Sign in; go to Pay.
      await signInHere(first, username, password);
      await first.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pay', exact: true }).click();
      await first.getByRole('heading', { name: 'Pay', level: 1 }).waitFor();

      // A second tab on the inbox: signed in silently through auth's session, streaming.
      const second = await context.newPage();
      await second.goto(`${origin}/app/inbox`);
      await second.getByRole('banner').getByText(`Signed in as ${username}`).waitFor();
      await second.getByRole('status').filter({ hasText: 'Your inbox is empty.' }).waitFor();

      // 4242: succeeded; the second tab shows it without a reload.
      await payWith(first, '25.00', '4242 4242 4242 4242');
      await first.getByRole('region', { name: 'Payment succeeded' }).filter({ hasText: '$25.00' }).waitFor();
      await inbox(second).filter({ hasText: 'Payment of $25.00 received.' }).waitFor();
      await badge(second, 1);

      // A 3-D Secure card: the modal; confirming completes it.
      await payWith(first, '40.00', '4000 0027 6000 3184');
      const dialog = first.getByRole('dialog', { name: 'Confirm the payment with your bank' });
      await dialog.getByRole('button', { name: 'Complete authentication' }).click();
      await first.getByRole('region', { name: 'Payment succeeded' }).filter({ hasText: '$40.00' }).waitFor();
      await inbox(second).filter({ hasText: 'Payment of $40.00 received.' }).waitFor();

      // A declined card: the reason on the page, and a notification saying it failed.
      await payWith(first, '9.00', '4000 0000 0000 9995');
      await first.getByRole('alert').filter({ hasText: 'Your card was declined because it has insufficient funds.' }).waitFor();
      await inbox(second).filter({ hasText: 'Payment failed' }).waitFor();
      await badge(second, 3);
      assert.deepEqual(await seriousAxeViolations(second), [], 'the live inbox');

      // Mark the first one read.
      await inbox(second).filter({ hasText: '$25.00' }).getByRole('button', { name: 'Mark as read' }).click();
      await badge(second, 2);
      await badge(first, 2);

      // The administrator, in a browser of their own, refunds $10.00 of the first payment.
      const adminContext = await browser.browser.newContext();
      try {
        const admin = await adminContext.newPage();
        await admin.goto(`${origin}/app/admin/users`);
        await signInHere(admin, 'admin', adminPassword);
        await admin.getByLabel('Username or email starts with').fill(username);
        await admin.getByRole('button', { name: 'Search' }).click();
        await admin.getByRole('status').filter({ hasText: 'Showing 1 user, page 1.' }).waitFor();
        await admin.getByRole('table', { name: 'Users' }).getByRole('link', { name: username }).click();
        const row = admin.getByRole('table', { name: 'The user\'s payments' }).getByRole('row').filter({ hasText: '$25.00' });
        await row.getByRole('button', { name: /^Refund pay_/ }).click();
        const refund = admin.getByRole('dialog', { name: /^Refund payment pay_/ });
        await refund.getByLabel('Amount to refund (USD)').fill('10.00');
        await refund.getByRole('button', { name: 'Refund' }).click();
        await refund.getByText(/^Refund re_\S+ of \$10\.00 succeeded\.$/).waitFor();
      } finally {
        await adminContext.close();
      }

      // The customer's inbox shows the refund live, in both tabs.
      await inbox(second).filter({ hasText: 'A refund of $10.00 is on its way to you.' }).waitFor();
      await badge(second, 3);
      await badge(first, 3);

      // Signing out in the first tab ends the session in the second: its stream ends and it says
      // so by itself, showing nothing of the account; signing in there asks for the password again.
      const secondStreamEnded = new Promise<void>((resolve) => {
        const ended = (request: { url(): string }) => void (request.url().endsWith('/notifications/stream') && resolve());
        second.on('requestfinished', ended);
        second.on('requestfailed', ended);
      });
      await first.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
      await first.getByRole('button', { name: 'Yes, sign me out' }).click();
      await first.getByRole('heading', { name: 'You have signed out' }).waitFor();
      await secondStreamEnded;
      await second.getByRole('status').filter({ hasText: /^(You signed out in another tab or window\.|Your session has ended\. Please sign in again\.)$/ }).waitFor();
      assert.equal(await second.getByText('$25.00').count(), 0, 'nothing of the account is shown');
      await second.getByRole('button', { name: 'Sign in to Paymesh' }).click();
      await second.getByLabel('Password').waitFor();
      await second.close();
    });
  });
}
