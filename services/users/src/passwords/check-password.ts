// NIST SP 800-63B's rules for chosen passwords: at least 8 characters, long ones welcome (we take
// up to 1024, so any passphrase or manager-generated secret fits), no composition rules, never one
// of the passwords attackers try first, nor one an estimate of guesses finds easy (repeats,
// sequences, keyboard patterns, words, the account's own username, email or name).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { usersErrors } from '../errors.ts';
import { estimateStrength } from './password-strength.ts';

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

/** What the account says about its owner: a password made of it is guessed first. */
export interface PasswordContext {
  readonly username?: string | null;
  readonly email?: string | null;
  readonly displayName?: string | null;
  readonly param?: string;
}

/** Throws a 400 naming `param` unless the password may be chosen (with the policy's reasons when it is too weak). */
export function checkNewPassword(password: string, context: PasswordContext = {}): void {
  const param = context.param ?? 'password';
  // Characters as people count them (an emoji is one), not UTF-16 units.
  const length = [...password].length;
  if (length < minPasswordLength) throw usersErrors.invalidInput(param, `A password has at least ${minPasswordLength} characters.`);
  if (length > maxPasswordLength) throw usersErrors.invalidInput(param, `A password has at most ${maxPasswordLength} characters.`);
  const lower = password.toLowerCase();
  if (common.has(lower)) throw usersErrors.passwordTooCommon(param);
  if (context.username !== undefined && context.username !== null && lower === context.username.toLowerCase()) throw usersErrors.passwordTooCommon(param);
  const inputs = [context.username, context.email, context.displayName].filter((input): input is string => typeof input === 'string' && input !== '');
  const verdict = estimateStrength(password, inputs);
  if (!verdict.strong) throw usersErrors.passwordTooWeak(param, verdict.reasons);
}
