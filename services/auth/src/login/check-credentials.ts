// Asks the users service whether a username (or email) and password match an active account.
// Both first-party logins (POST /auth/login and the login page) go through here.
import type { ServiceClient } from '@paymesh/platform/service-client';
import { platformErrors } from '@paymesh/platform/errors';
import { authErrors } from '../errors.ts';
import type { Logger } from '@paymesh/platform/logger';

export interface CheckedUser {
  readonly id: string;
  readonly username: string;
  readonly role: 'user' | 'admin';
}

/** The account, or undefined for any kind of refusal (unknown, wrong password, disabled, deleted). */
export async function checkCredentials(users: ServiceClient, logger: Logger, username: string, password: string): Promise<CheckedUser | undefined> {
  const checked = await users.request<{ user_id: number; username: string; role: 'user' | 'admin' }>({
    method: 'POST',
    path: '/users/internal/verify-credentials',
    body: { username, password },
  });
  // 400: nothing any account could match (a NUL in the name, say): a wrong credential like any other.
  if (checked.status === 401 || checked.status === 400) return undefined;
  // Users' own limit per login name: the caller is told to slow down, not that we are broken.
  if (checked.status === 429) throw authErrors.tooManyAttempts(60);
  if (checked.status !== 200) {
    logger.error({ status: checked.status, body: checked.body }, 'credential check failed');
    throw platformErrors.serviceUnavailable();
  }
  return { id: String(checked.body.user_id), username: checked.body.username, role: checked.body.role };
}
