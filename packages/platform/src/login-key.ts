// The one folding of a login name (a username or an email address). Users stores it beside each
// name (unique) and looks accounts up by it; auth keys its password-guessing counts by it. Two
// spellings are the same account exactly when their keys are equal, for both services, so no
// spelling can reach an account without also reaching its counts (docs/adr/0009-unaimable-lockouts.md).

/**
 * Unicode's caseless identifier matching (NFKC_Casefold, UAX #44 / UAX #31), built from what
 * JavaScript offers: NFKC (full-width `ａ`, the Kelvin sign `K`, ligatures `ﬁ`, `ſ` become their
 * plain letters), default case folding (lower case, and the few letters whose fold differs from
 * their lower case: `ß` → `ss`, final `ς` → `σ`, the iota subscript → `ι`), NFKC again (folding
 * can decompose), and default-ignorable code points (soft hyphen, zero-width joiners, variation
 * selectors) removed.
 *
 * Deliberately not Turkic folding: `İ` (U+0130) folds to `i̇` (i with a combining dot), not to `i`,
 * and dotless `ı` stays itself; neither is the plain `i` of another account.
 */
export function loginKey(login: string): string {
  const decomposed = login.replace(defaultIgnorable, '').normalize('NFKC').normalize('NFD').toLowerCase();
  return decomposed.replace(foldsBeyondLowerCase, (c) => foldBeyondLowerCase[c]!).normalize('NFKC').replace(defaultIgnorable, '');
}

/**
 * Whether a login name is in the form it may be stored and matched in: Unicode NFC. Anything else
 * is refused at registration and is a failed sign-in (a decomposed `é` is not how any account is
 * stored); its key is still the key of its NFC form, so it counts against that account.
 */
export function isNormalizedLogin(login: string): boolean {
  return login.normalize('NFC') === login;
}

const defaultIgnorable = /\p{Default_Ignorable_Code_Point}/gu;

// Unicode's CaseFolding.txt entries (status C and F) that differ from the lower case and survive
// NFKC and NFD; the rest of its differences (ligatures, `ſ`, `µ`, `ϐ`…) NFKC already maps, and
// Cherokee folds to upper case where lower case gives the other spelling of the same pair.
const foldBeyondLowerCase: Record<string, string> = {
  'ß': 'ss',
  'ς': 'σ',
  // COMBINING GREEK YPOGEGRAMMENI, left by NFD out of `ᾳ`, `ᾼ`… (folded to `αι`).
  '\u0345': 'ι',
  // Old Cyrillic letter variants, which have no upper case of their own.
  'ᲀ': 'в', 'ᲁ': 'д', 'ᲂ': 'о', 'ᲃ': 'с', 'ᲄ': 'т', 'ᲅ': 'т', 'ᲆ': 'ъ', 'ᲇ': 'ѣ', 'ᲈ': 'ꙋ',
};
const foldsBeyondLowerCase = new RegExp(`[${Object.keys(foldBeyondLowerCase).join('')}]`, 'gu');
