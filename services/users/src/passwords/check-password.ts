// NIST SP 800-63B's rules for chosen passwords: at least 8 characters, long ones welcome (we take
// up to 1024, so any passphrase or manager-generated secret fits), no composition rules, and never
// one of the passwords attackers try first, nor the account's own username.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { usersErrors } from '../errors.ts';

export const minPasswordLength = 8;
export const maxPasswordLength = 1024;

// 17,950 entries, lower-cased: loaded once, looked up in constant time.
const common = new Set(
  readFileSync(resolve(import.meta.dirname, '../../data/common-passwords.txt'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#')),
);

export function commonPasswordCount(): number {
  return common.size;
}

/** Throws a 400 naming `param` unless the password may be chosen. */
export function checkNewPassword(password: string, context: { username?: string | null; param?: string } = {}): void {
  const param = context.param ?? 'password';
  // Characters as people count them (an emoji is one), not UTF-16 units.
  const length = [...password].length;
  if (length < minPasswordLength) throw usersErrors.invalidInput(param, `A password has at least ${minPasswordLength} characters.`);
  if (length > maxPasswordLength) throw usersErrors.invalidInput(param, `A password has at most ${maxPasswordLength} characters.`);
  const lower = password.toLowerCase();
  if (common.has(lower)) throw usersErrors.passwordTooCommon(param);
  if (context.username !== undefined && context.username !== null && lower === context.username.toLowerCase()) throw usersErrors.passwordTooCommon(param);
}
