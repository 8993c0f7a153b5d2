// The harness's settle(): once it returns, what a request led to has happened (events published and
// handled, deliveries due attempted to their end, queued reset requests worked off), so a test may
// assert that nothing more happens without sleeping first.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { parseMail, startSmtpSink, type SmtpSink } from '@paymesh/app/testing/smtp-sink';

let sink: SmtpSink;
let platform: TestPlatform;
before(async () => {
  sink = await startSmtpSink();
  platform = await startTestPlatform('pglite', { env: { SMTP_URL: sink.url } });
});
after(async () => {
  await platform?.stop();
  await sink?.close();
});

const subjectsTo = (address: string) => sink.received.filter((m) => m.rcptTo.includes(address)).map((m) => parseMail(m.raw).subject);

test('settle() returns once a payment\'s receipt has been sent over SMTP, with no wait before it', async () => {
  const user = await platform.api.signUp();
  await platform.confirmEmail(user.id);
  const paid = await platform.api.call('POST', '/payments', { token: user.token, json: { amount: 12, user_id: user.id } });
  assert.equal(paid.status, 200);
  await platform.settle();
  assert.deepEqual(subjectsTo(`${user.username}@example.com`).filter((s) => s === 'Payment received'), ['Payment received']);
});

test('settle() returns once a password reset request has been looked up and its email sent', async () => {
  const user = await platform.api.signUp();
  await platform.confirmEmail(user.id);
  const requested = await platform.api.call('POST', '/users/password-reset', { json: { email: `${user.username}@example.com` } });
  assert.equal(requested.status, 202, JSON.stringify(requested.body));
  await platform.settle();
  assert.deepEqual(subjectsTo(`${user.username}@example.com`).filter((s) => s === 'Reset your password'), ['Reset your password']);
});
