// What the dashboard's browser tests share: Chromium (chromiumSuite), a started platform, the
// public origin the app's redirect URIs are registered under, optionally a mailbox the platform
// mails to, and signing in the way a person does it (the app's "Sign in" button, auth's page).
import { after, before } from 'node:test';
import type { Page } from 'playwright-core';
import { startTestPlatform, type Backend, type TestEnv, type TestPlatform } from '@paymesh/app/testing';
import { openMailbox, type Mailbox } from '../mailed-links.ts';
import { chromiumSuite, type ChromiumSuite } from './chromium.ts';

export interface DashboardSuite extends ChromiumSuite {
  readonly platform: TestPlatform;
  /** http://localhost:<port> (as auth publishes it): paymesh-web's redirect URIs are under it, not under 127.0.0.1. */
  readonly origin: string;
  /** With `mailbox: true`: the SMTP sink the platform sends its email to. */
  readonly mailbox: Mailbox;
  /** Opens `path`, signs in with the password on auth's page, and waits for the header's username. */
  signIn(page: Page, path: string, user: { readonly username: string; readonly password: string }): Promise<void>;
}

/** Call in a describe's body; the values are set once its `before` hooks ran. */
export function dashboardSuite(options: { backend?: Backend; env?: TestEnv; mailbox?: boolean } = {}): DashboardSuite {
  const suite = chromiumSuite() as ChromiumSuite & { -readonly [K in 'platform' | 'origin' | 'mailbox']: DashboardSuite[K] } & Pick<DashboardSuite, 'signIn'>;
  before(async () => {
    const mailEnv: Record<string, string> = {};
    if (options.mailbox === true) {
      suite.mailbox = await openMailbox();
      mailEnv.SMTP_URL = suite.mailbox.smtpUrl;
    }
    suite.platform = await startTestPlatform(options.backend ?? 'pglite', { env: { ...options.env, ...mailEnv } });
    suite.origin = `http://localhost:${new URL(suite.platform.gatewayUrl).port}`;
  });
  after(async () => {
    await suite.platform?.stop();
    await suite.mailbox?.close();
  });
  suite.signIn = async (page, path, user) => {
    await page.goto(`${suite.origin}${path}`);
    await page.getByRole('button', { name: 'Sign in to Paymesh' }).click();
    await signInOnAuthsPage(page, user.username, user.password);
    await page.getByRole('banner').getByText(`Signed in as ${user.username}`).waitFor();
  };
  return suite;
}

/** On auth's sign-in page: the username, the password, "Sign in". */
export async function signInOnAuthsPage(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username or email').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
