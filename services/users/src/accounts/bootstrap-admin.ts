// The first start creates the admin account from BOOTSTRAP_ADMIN_USERNAME / _PASSWORD. With no
// password given one is generated, printed once and stored for the developer: never a fixed
// default.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Runtime } from '@paymesh/platform/runtime';
import { usersErrors } from '../errors.ts';
import { createUser } from './create-user.ts';
import { findUserByLogin } from './user.ts';
import { checkUsername, normalizeEmail } from './validate-registration.ts';
import { checkNewPassword } from '../passwords/check-password.ts';

export interface BootstrapAdminOptions {
  readonly username: string;
  readonly email: string;
  readonly password: string | undefined;
  /** Where a generated password is stored for the developer. */
  readonly passwordFile: string;
}

export async function bootstrapAdmin(runtime: Runtime, options: BootstrapAdminOptions): Promise<void> {
  // The admin follows the username rules every account does (no `@`, which would read as an email
  // at login; no spaces or control characters in logs and pages).
  configured('BOOTSTRAP_ADMIN_USERNAME', () => checkUsername(options.username));
  if ((await findUserByLogin(runtime.database.db, options.username)) !== undefined) return;
  const generated = options.password === undefined;
  const password = options.password ?? randomBytes(18).toString('base64url');
  // The most powerful account follows the rules every other one does: stored like a registered
  // address (so it is found and kept unique the same way), and no password attackers try first.
  const email = configured('BOOTSTRAP_ADMIN_EMAIL', () => normalizeEmail(options.email));
  // A configured password meets the same policy as any other (its strength estimate included), in
  // every mode: the admin account is the one most worth guessing. A generated one is 144 random bits.
  if (!generated) configured('BOOTSTRAP_ADMIN_PASSWORD', () => checkNewPassword(password, { username: options.username, email }));
  try {
    await createUser(runtime.database.db, { username: options.username, email, password }, { role: 'admin', emailVerified: true });
  } catch (error) {
    if ((error as { code?: string }).code !== usersErrors.identityTaken().code) throw error;
    // Another replica bootstrapped it at the same moment; or the address is another account's.
    if ((await findUserByLogin(runtime.database.db, options.username)) === undefined) {
      runtime.logger.error({ username: options.username }, 'no admin account created: BOOTSTRAP_ADMIN_EMAIL belongs to another account; set another address');
    }
    return;
  }
  if (generated) {
    // Printed before the file is written: a read-only disk must not cost the only copy.
    const file = options.passwordFile;
    runtime.logger.warn({ username: options.username, passwordFile: file }, `admin account created with a generated password (printed once, also stored in ${file}): ${password}`);
    try {
      mkdirSync(resolve(file, '..'), { recursive: true });
      writeFileSync(file, `username=${options.username}\npassword=${password}\n`, { mode: 0o600 });
    } catch (error) {
      runtime.logger.warn({ err: error, passwordFile: file }, 'could not store the generated admin password; it is only in the line above');
    }
  } else {
    runtime.logger.info({ username: options.username }, 'admin account created');
  }
}

/** Runs a check of a configured value; a refusal stops the start with the key's name and why. */
function configured<T>(key: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw new Error(`${key}: ${(error as Error).message}`, { cause: error });
  }
}
