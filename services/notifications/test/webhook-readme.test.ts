// The README's webhook verification snippet is what users paste into their receivers: it must
// accept what the service signs, during a rotation too, and refuse tampering and stale timestamps.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { newWebhookSecret, signWebhook } from '../src/webhooks/webhook-signature.ts';

type Verify = (header: string, rawBody: string, secret: string, toleranceSec?: number) => boolean;

async function readmeVerify(): Promise<Verify> {
  const readme = readFileSync(resolve(import.meta.dirname, '../../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('**Verifying a webhook.**'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(code !== undefined, 'the README has a js block after "Verifying a webhook"');
  const file = join(mkdtempSync(join(tmpdir(), 'readme-')), 'verify.mjs');
  writeFileSync(file, `${code}\nexport { verify };\n`);
  return ((await import(pathToFileURL(file).href)) as { verify: Verify }).verify;
}

test("the README's verify function accepts a delivery's signature and refuses a tampered body, another secret and a stale timestamp", async () => {
  const verify = await readmeVerify();
  const secret = newWebhookSecret();
  const body = JSON.stringify({ id: 'evt_1', type: 'payment.succeeded', data: { amount: 1250 } });
  const now = Math.floor(Date.now() / 1000);
  assert.equal(verify(signWebhook(body, [secret], now), body, secret), true);
  assert.equal(verify(signWebhook(body, [secret], now), body.replace('1250', '9999'), secret), false);
  assert.equal(verify(signWebhook(body, [newWebhookSecret()], now), body, secret), false);
  assert.equal(verify(signWebhook(body, [secret], now - 301), body, secret), false);
  assert.equal(verify(`t=${now},v1=zz${'0'.repeat(62)}`, body, secret), false);
});

test("the README's verify function accepts either secret while a rotation's overlap lasts", async () => {
  const verify = await readmeVerify();
  const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
  const body = '{"id":"evt_2"}';
  const header = signWebhook(body, [current, previous], Math.floor(Date.now() / 1000));
  assert.equal(verify(header, body, current), true);
  assert.equal(verify(header, body, previous), true);
});
