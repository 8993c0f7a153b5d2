import { usersErrors } from '../errors.ts';

export interface Registration {
  readonly username: string;
  readonly email: string;
  readonly password: string;
}

/**
 * Checks a registration by hand rather than by schema because the contract's create_user fixes
 * its error body ({"success": false, "message": "Invalid input"}); the `error` object beside it
 * says which field.
 */
export function validateRegistration(body: unknown): Registration {
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const username = field(input, 'username');
  const email = field(input, 'email');
  const password = field(input, 'password');
  if (!/^[A-Za-z0-9_.-]{3,64}$/.test(username)) throw usersErrors.invalidInput('username', 'A username is 3 to 64 letters, digits, dots, dashes or underscores.');
  const normalizedEmail = email.trim();
  if (normalizedEmail.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(normalizedEmail)) throw usersErrors.invalidInput('email', 'That is not a valid email address.');
  if (password.length < 8) throw usersErrors.invalidInput('password', 'A password has at least 8 characters.');
  if (password.length > 1024) throw usersErrors.invalidInput('password', 'A password has at most 1024 characters.');
  return { username, email: normalizedEmail, password };
}

function field(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') throw usersErrors.missingInput(name);
  return value;
}
