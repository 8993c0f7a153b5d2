import { domainToASCII } from 'node:url';
import { isNormalizedLogin } from '@paymesh/platform/login-key';
import { usersErrors } from '../errors.ts';

export interface Registration {
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

// A plain mailbox only (RFC 5321 dot-atom, with RFC 6531's letters): no display name, comment,
// group, route or quoted part. Mail parsers read `x<ana@example.com>` or `ana@example.com(x)` as
// ana@example.com, so such a string would be a second account (the unique index sees another
// text) whose mail goes to a mailbox that already has one.
const localPart = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~.-]{1,64}$/u;
const domainLabel = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;

/** Refuses a login name (username or email) that is not in NFC, the only form any is stored in. */
export function requireNormalizedLogin(value: string, param: string): void {
  if (!isNormalizedLogin(value)) throw usersErrors.loginNotNormalized(param);
}

/**
 * An email address as we store it: trimmed, Unicode NFC (refused otherwise), the domain
 * lower-cased and in its ASCII (punycode) form (domains are case-insensitive; the local part is
 * kept as typed, and uniqueness goes by its login key, which ignores case and width).
 */
export function normalizeEmail(raw: string, param = 'email'): string {
  const email = raw.trim();
  requireNormalizedLogin(email, param);
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const labels = email.slice(at + 1).split('.');
  if (email.length > 254 || at < 1 || !localPart.test(local) || labels.length < 2 || !labels.every((label) => domainLabel.test(label))) {
    throw usersErrors.invalidInput(param, 'That is not a valid email address.');
  }
  // One spelling per domain: `bücher.de` and `xn--bcher-kva.de` are the same mailbox host, so they
  // are stored alike (the ASCII form DNS uses), or they would make two accounts for one mailbox.
  const domain = domainToASCII(email.slice(at + 1).toLowerCase());
  if (domain === '') throw usersErrors.invalidInput(param, 'That is not a valid email address.');
  return `${local}@${domain}`;
}

/**
 * Checks a registration's form by hand rather than by schema because the contract's create_user
 * fixes its error body ({"success": false, "message": "Invalid input"}); the `error` object beside
 * it says which field. The password's strength is checked later (checkNewPassword), after the
 * registration limits: estimating it is work that only a counted request may ask for.
 */
export function validateRegistration(body: unknown): Registration {
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const username = field(input, 'username');
  const email = field(input, 'email');
  const password = field(input, 'password');
  checkUsername(username);
  const normalizedEmail = normalizeEmail(email);
  return { username, email: normalizedEmail, password };
}

/** What a username may be, for a registration and for BOOTSTRAP_ADMIN_USERNAME alike. */
export function checkUsername(username: string): void {
  requireNormalizedLogin(username, 'username');
  if (!/^[A-Za-z0-9_.-]{3,64}$/.test(username)) throw usersErrors.invalidInput('username', 'A username is 3 to 64 letters, digits, dots, dashes or underscores.');
}

function field(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') throw usersErrors.missingInput(name);
  return value;
}
