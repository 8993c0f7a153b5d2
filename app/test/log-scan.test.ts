// The harness's log scan (run on every test platform's logs at stop) finds each kind of secret it
// names, in plain lines and inside JSON values, and is not fooled into alarms by timestamps.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findSecretsInLogs, luhnValid } from '../testing/log-scan.ts';

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 50, time: 1796503983160, service: 'payments', ...fields });

test('a Luhn-valid card number of 13 to 19 digits in any logged text is found; other digit runs are not', () => {
  for (const card of ['4242424242424242', '4000056655665556', '378282246310005', '6011111111111117', '4222222222222']) {
    assert.ok(luhnValid(card), card);
    assert.equal(findSecretsInLogs('payments', line({ err: { message: `Failed query params: 2,${card},x` } }), []).length, 1, card);
  }
  assert.deepEqual(findSecretsInLogs('payments', line({ msg: 'order 4242424242424241 and id 123456789012' }), []), []);
  // Digits inside a hex digest or an identifier (a throttle key logged by auth) are no card number.
  assert.deepEqual(findSecretsInLogs('auth', line({ keys: ['pair:677f195785c6a5817b984139e180b47e04669d40df96cff4242424242424242a34', 'id_4242424242424242'] }), []), []);
  assert.equal(findSecretsInLogs('payments', line({ msg: 'card=4242424242424242;' }), []).length, 1, 'bounded by punctuation it is a card number');
});

test('the time field and numbers (millisecond timestamps can pass Luhn) are not scanned', () => {
  const luhnTimestamp = Array.from({ length: 1000 }, (_, i) => 1796503983000 + i).find((n) => luhnValid(String(n)))!;
  assert.deepEqual(findSecretsInLogs('auth', JSON.stringify({ time: luhnTimestamp, ms: luhnTimestamp, msg: 'ok' }), []), []);
});

test('webhook secrets, JWTs, bearer tokens, harness passwords and known secrets are found; the finding masks them', () => {
  const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxMiJ9.c2lnbmF0dXJl';
  const cases: [string, string, string[]][] = [
    ['whsec_abc123DEF', 'webhook secret', []],
    [jwt, 'JWT', []],
    ['Bearer abcdefghijklmnopqrstuvwxyz', 'bearer token', []],
    ['pw-0123456789abcdef', 'password', []],
    ['s3cret-client-value', 'known secret', ['s3cret-client-value']],
  ];
  for (const [secret, kind, known] of cases) {
    const findings = findSecretsInLogs('notifications', line({ msg: 'request failed', err: { cause: { detail: `value ${secret} here` } } }), known);
    assert.ok(findings.some((f) => f.includes(kind)), `${kind}: ${findings.join('; ')}`);
    assert.ok(findings.every((f) => !f.includes(secret)), 'the secret itself is not repeated');
  }
  assert.equal(findSecretsInLogs('gateway', 'not json: whsec_x1', []).length, 1, 'a plain line is scanned whole');
});
