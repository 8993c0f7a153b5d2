// The one folding of login names shared by users (stored, unique, looked up) and auth (the
// password-guessing counts): which spellings are one name, and that the folding is stable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNormalizedLogin, loginKey } from '../src/login-key.ts';

test('spellings that differ only by case, width, compatibility forms or invisible characters have one login key', () => {
  const same: [string, string][] = [
    ['ADMIN', 'admin'],
    // Full-width letters and sign (an IME's default on CJK keyboards).
    ['ａｄｍｉｎ', 'admin'],
    ['ＡＤＭＩＮ＠ＥＸＡＭＰＬＥ．ＣＯＭ', 'admin@example.com'],
    // KELVIN SIGN and ANGSTROM SIGN are compatibility spellings of K and Å.
    ['\u212Aim', 'kim'],
    ['\u212Bsa', 'åsa'],
    // Ligatures and the long s.
    ['\uFB01nn', 'finn'],
    ['ro\u017Fe', 'rose'],
    // Letters whose case fold differs from their lower case.
    ['straße', 'strasse'],
    ['STRASSE', 'strasse'],
    ['\u1E9Ee', 'sse'],
    ['ΣΟΦΟΣ', 'σοφοσ'],
    ['σοφος', 'σοφοσ'],
    ['\u1FBC', 'αι'],
    // Decomposed and composed forms (the key is computed on NFKC).
    ['e\u0301lodie', 'élodie'],
    ['E\u0301LODIE', 'élodie'],
    // Default-ignorable characters: a soft hyphen, a zero-width joiner, a variation selector.
    ['ad\u00ADmin', 'admin'],
    ['ad\u200Dmin', 'admin'],
    ['admin\uFE0F', 'admin'],
  ];
  for (const [spelling, key] of same) assert.equal(loginKey(spelling), key, JSON.stringify(spelling));
});

test('other letters stay other names: dotted İ and dotless ı are not i, marks are not dropped, spaces and dots count', () => {
  for (const other of ['adm\u0130n', 'adm\u0131n', 'admín', 'admin ', ' admin', 'admin.', 'adm1n']) {
    assert.notEqual(loginKey(other), loginKey('admin'), JSON.stringify(other));
  }
  // İ folds to i with a combining dot (Unicode's default, not Turkish, folding): one name, two spellings.
  assert.equal(loginKey('\u0130nci'), loginKey('i\u0307nci'));
});

test('the login key of a login key is itself, for every code point', () => {
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const key = loginKey(String.fromCodePoint(cp));
    if (loginKey(key) !== key) assert.fail(`U+${cp.toString(16)}: ${JSON.stringify(key)} → ${JSON.stringify(loginKey(key))}`);
  }
});

test('a login name is normalized when it is in NFC', () => {
  assert.ok(isNormalizedLogin('élodie'));
  assert.ok(isNormalizedLogin('ａｄｍｉｎ'));
  assert.ok(!isNormalizedLogin('e\u0301lodie'));
  assert.ok(!isNormalizedLogin('\u212Aim'));
});
