// The password rules the dashboard ticks as a person types (services/gateway/web/src/password-rules.ts),
// the browser's share of the users service's policy (services/users/src/passwords/check-password.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { meetsPasswordRules, passwordRules } from '../web/src/password-rules.ts';
import { maxPasswordLength, minPasswordLength } from '../web/src/password-rules.ts';

const met = (password: string, account = {}) => Object.fromEntries(passwordRules(password, account).map((rule) => [rule.text, rule.met]));

describe('the password rules shown as a person types', () => {
  test('the lengths are the users service\'s policy: 8 to 1024 characters', () => {
    assert.equal(minPasswordLength, 8);
    assert.equal(maxPasswordLength, 1024);
  });

  test('an empty password meets no rule but the maximum; a long passphrase meets them all', () => {
    assert.deepEqual(met(''), { 'At least 8 characters': false, 'At most 1,024 characters': true, 'Not your username or email address': false, 'Not one character repeated': false });
    assert.ok(meetsPasswordRules('orchard lantern quietly'));
  });

  test('characters are counted as people count them: four emoji are four characters, not eight', () => {
    assert.equal(met('🔑🔑🔒🔒')['At least 8 characters'], false);
    assert.equal(met('🔑🔒🔑🔒🔑🔒🔑🔒')['At least 8 characters'], true);
  });

  test('the username or the email address (or its local part), in any case, is refused', () => {
    const account = { username: 'Ana.Silva', email: 'ana.silva@example.com' };
    assert.equal(met('ana.silva', account)['Not your username or email address'], false);
    assert.equal(met('ANA.SILVA@EXAMPLE.COM', account)['Not your username or email address'], false);
    assert.equal(met('ana.silva lives here', account)['Not your username or email address'], true);
  });

  test('one character repeated, or more than 1,024 characters, is refused', () => {
    assert.equal(meetsPasswordRules('aaaaaaaaaaaa'), false);
    assert.equal(meetsPasswordRules('ab'.repeat(513)), false);
    assert.equal(meetsPasswordRules('ab'.repeat(512)), true);
  });
});
