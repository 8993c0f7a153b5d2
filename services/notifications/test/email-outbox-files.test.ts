// Notifications without SMTP_URL: email is written as .eml files to EMAIL_OUTBOX_DIR, and removed
// with a deleted user's data.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMail } from '@paymesh/app/testing/smtp-sink';
import { backends, eventually, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { addressOf, env, type User } from './email-harness.ts';

for (const backend of backends()) {
  describe(`notifications: email without SMTP_URL is written as .eml files (${backend})`, () => {
    let platform: TestPlatform;
    let outboxDir: string;

    before(async () => {
      outboxDir = mkdtempSync(path.join(tmpdir(), 'paymesh-outbox-'));
      platform = await startTestPlatform(backend, { env: { ...env, SMTP_URL: undefined, EMAIL_OUTBOX_DIR: outboxDir } });
    });
    after(async () => {
      await platform?.stop();
    });

    test('a payment without SMTP_URL writes <delivery id>.eml to EMAIL_OUTBOX_DIR with the recipient and subject', async () => {
      const user = (await platform.api.signUp()) as User;
      await platform.confirmEmail(user.id);
      const paid = await platform.api.call('POST', '/payments', { token: user.token, json: { amount: '9.99', user_id: user.id } });
      assert.equal(paid.status, 200);
      const email = await eventually(async () => {
        const list = await platform.api.call('GET', '/notifications/deliveries?channel=email&status=delivered', { token: user.token });
        return (list.body.data as { id: string; type: string }[]).find((d) => d.type === 'payment.succeeded');
      });
      assert.deepEqual((await readdir(outboxDir)).filter((f) => f.startsWith(email.id)), [`${email.id}.eml`]);
      const raw = await readFile(path.join(outboxDir, `${email.id}.eml`), 'utf8');
      assert.ok(raw.includes('\r\n'), 'CRLF line ends, as SMTP would carry');
      const mail = parseMail(raw);
      assert.equal(mail.headers.get('to'), addressOf(user));
      assert.equal(mail.headers.get('subject'), 'Payment received');
      assert.match(mail.text, /Payment of \$9\.99 received\./);
      assert.match(mail.headers.get('message-id') ?? '', new RegExp(`^<${email.id}@`));
    });

    test("a deleted user's .eml files are removed with the rest of their data", async () => {
      const user = (await platform.api.signUp()) as User;
      await platform.confirmEmail(user.id);
      assert.equal((await platform.api.call('POST', '/payments', { token: user.token, json: { amount: '4.44', user_id: user.id } })).status, 200);
      const email = await eventually(async () => {
        const list = await platform.api.call('GET', '/notifications/deliveries?channel=email&status=delivered', { token: user.token });
        return (list.body.data as { id: string; type: string }[]).find((d) => d.type === 'payment.succeeded');
      });
      assert.ok((await readdir(outboxDir)).includes(`${email.id}.eml`));
      assert.equal((await platform.api.call('DELETE', `/users/${user.id}`, { token: user.token })).status, 204);
      await eventually(async () => ((await readdir(outboxDir)).includes(`${email.id}.eml`) ? undefined : true), { timeoutMs: 5_000 });
    });
  });
}
