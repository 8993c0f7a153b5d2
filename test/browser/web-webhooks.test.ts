// The dashboard's webhook and device pages in Chromium: a person adds a webhook endpoint (a
// receiver on loopback, allowed by WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true) for received payments, sees
// its signing secret once, makes a payment through the API; the receiver answers the first POST
// with 500, so the delivery shows as failed; Redeliver sends it again and it is delivered. Rotating
// the secret shows a new one; disabling and deleting the endpoint work. A push device registered
// through the API is listed and removed. axe-core finds nothing serious on any of these pages.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SignedUpUser } from '@paymesh/app/testing';
import { seriousAxeViolations, skipWithoutChromium } from './chromium.ts';
import { dashboardSuite } from './dashboard-suite.ts';

describe('the dashboard\'s webhook endpoints and push devices in a real browser', { skip: skipWithoutChromium() }, () => {
  // No retries: the first failure makes the delivery dead, to be redelivered by hand.
  const browser = dashboardSuite({ env: { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true', NOTIFICATIONS_RETRY_DELAYS: ',' } });
  let alice: SignedUpUser;
  let receiver: Server;
  let receiverUrl: string;
  /** The event types the receiver was sent, in order; it answers the first with 500, the rest with 200. */
  const received: string[] = [];

  before(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => { body += chunk.toString(); });
      request.on('end', () => {
        received.push((JSON.parse(body) as { type: string }).type);
        response.writeHead(received.length === 1 ? 500 : 200, { 'content-type': 'text/plain' }).end(received.length === 1 ? 'not yet' : 'ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/paymesh-hook`;
    alice = await browser.platform.api.signUp();
  });
  after(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
  });

  const signIn = (page: Page, path: string) => browser.signIn(page, path, alice);

  const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  test('add an endpoint → its secret shown once → a payment → the failed delivery redelivered → rotate the secret → disable → delete', async () => {
    const { page } = browser;
    await signIn(page, '/app/settings/notifications');
    await page.getByRole('heading', { name: 'Notification preferences', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Webhook endpoints' }).click();
    await page.getByRole('heading', { name: 'Webhook endpoints', level: 1 }).waitFor();
    assert.equal(await page.title(), 'Webhook endpoints · Paymesh');
    await page.getByText('You have no webhook endpoints yet.').waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the empty webhooks page');

    // No event chosen: said on the checkboxes, nothing sent.
    await page.getByLabel('Endpoint URL').fill(receiverUrl);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByText('Choose at least one event to send.').waitFor();

    await page.getByLabel('A payment was received').check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const secretBox = page.getByRole('textbox', { name: 'Signing secret' });
    await secretBox.waitFor();
    const firstSecret = await secretBox.inputValue();
    assert.match(firstSecret, /^whsec_/);
    assert.equal(await secretBox.getAttribute('readonly'), '');
    await page.getByText('it will not be shown again').waitFor();
    const table = page.getByRole('table', { name: 'Your webhook endpoints' });
    const row = table.getByRole('row').filter({ hasText: receiverUrl });
    assert.match(await row.innerText(), /A payment was received/);
    assert.match(await row.innerText(), /Enabled/);
    assert.deepEqual(await seriousAxeViolations(page), [], 'the webhooks page with the secret shown');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await page.getByRole('textbox', { name: 'Signing secret' }).count(), 0, 'shown once');
    // Away and back (the app keeps its session in memory: a reload would ask to sign in again).
    await page.getByRole('main').getByRole('link', { name: 'Notification preferences' }).click();
    await page.getByRole('link', { name: 'Webhook endpoints' }).click();
    await table.waitFor();
    assert.equal(await page.getByRole('textbox', { name: 'Signing secret' }).count(), 0, 'not shown again');
    assert.ok(!(await page.locator('body').innerText()).includes(firstSecret));

    // A payment: the receiver's first answer is 500.
    const paid = await browser.platform.api.call('POST', '/payments', { token: alice.token, json: { amount: 42, user_id: alice.id } });
    assert.equal(paid.status, 200);
    await until('the first POST to the receiver', () => received.length >= 1);
    assert.equal(received[0], 'payment.succeeded');

    await row.getByRole('link', { name: receiverUrl }).click();
    await page.getByRole('heading', { name: 'Webhook deliveries', level: 1 }).waitFor();
    const deliveries = page.getByRole('table', { name: 'Deliveries to this endpoint' });
    await until('the failed delivery to be listed', async () => {
      if (await deliveries.getByText('Failed', { exact: true }).count() === 1) return true;
      await page.getByRole('button', { name: 'Refresh' }).click();
      await new Promise((resolve) => setTimeout(resolve, 300));
      return false;
    });
    const delivery = deliveries.getByRole('row').filter({ hasText: 'A payment was received' });
    assert.match(await delivery.innerText(), /HTTP 500|500/);
    assert.match(await delivery.innerText(), /\b1\b/, 'one attempt');
    assert.ok(await delivery.locator('time[title]').count() >= 1, 'relative dates, the exact one in the title');
    assert.deepEqual(await seriousAxeViolations(page), [], 'the deliveries page');

    await delivery.getByRole('button', { name: /^Redeliver/ }).click();
    await delivery.getByText('Delivered', { exact: true }).waitFor({ timeout: 15_000 });
    assert.equal(received.length, 2);
    assert.equal(await delivery.getByRole('button', { name: /^Redeliver/ }).count(), 0);
    assert.match(await delivery.innerText(), /\b2\b/, 'two attempts');

    // Rotate: a new secret, shown once.
    await page.getByRole('link', { name: 'All webhook endpoints' }).click();
    await table.waitFor();
    await row.getByRole('button', { name: `Rotate secret ${receiverUrl}` }).click();
    const dialog = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await dialog.getByRole('button', { name: 'Rotate secret' }).click();
    await secretBox.waitFor();
    const secondSecret = await secretBox.inputValue();
    assert.match(secondSecret, /^whsec_/);
    assert.notEqual(secondSecret, firstSecret);

    // Disable, enable, delete.
    await row.getByRole('button', { name: `Disable ${receiverUrl}` }).click();
    await row.getByText('Disabled').waitFor();
    await row.getByRole('button', { name: `Enable ${receiverUrl}` }).click();
    await row.getByText('Enabled').waitFor();
    await row.getByRole('button', { name: `Delete ${receiverUrl}` }).click();
    await page.getByRole('dialog', { name: 'Delete this endpoint?' }).getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByText('You have no webhook endpoints yet.').waitFor();
    const listed = await browser.platform.api.call<{ data: unknown[] }>('GET', '/notifications/webhooks', { token: alice.token });
    assert.deepEqual(listed.body.data, []);
  });

  test('a push device registered through the API is listed, then removed', async () => {
    const { page } = browser;
    const registered = await browser.platform.api.call<{ id: string; token_suffix: string }>('POST', '/notifications/devices', { token: alice.token, json: { platform: 'ios', device_token: 'apns-token-0123456789abcdef' } });
    assert.equal(registered.status, 201);
    await signIn(page, '/app/settings/notifications');
    await page.getByRole('link', { name: 'Push devices' }).click();
    await page.getByRole('heading', { name: 'Push devices', level: 1 }).waitFor();
    const table = page.getByRole('table', { name: 'Your push devices' });
    const row = table.getByRole('row').filter({ hasText: 'iPhone or iPad' });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(registered.body.token_suffix));
    assert.deepEqual(await seriousAxeViolations(page), [], 'the devices page');

    await row.getByRole('button', { name: /^Remove iPhone or iPad/ }).click();
    await page.getByRole('dialog', { name: 'Remove this device?' }).getByRole('button', { name: 'Remove device' }).click();
    await page.getByText('No device receives your push notifications.').waitFor();
    assert.deepEqual(await seriousAxeViolations(page), [], 'the empty devices page');
    const listed = await browser.platform.api.call<{ data: unknown[] }>('GET', '/notifications/devices', { token: alice.token });
    assert.deepEqual(listed.body.data, []);
  });
});
