// Accounts live in the users service; auth looks them up there (with its own service token)
// whenever the provider needs one: to resume a session, to fill the ID token, to put the role
// into an access token.
import type { ServiceClient } from '@paymesh/platform/service-client';
import { platformErrors } from '@paymesh/platform/errors';
import { isNumericId } from '@paymesh/platform/ids';

export interface Account {
  readonly id: string;
  readonly username: string;
  readonly email: string | null;
  /** Whether `email` was confirmed by its emailed link (OIDC's email_verified, released with it). */
  readonly emailVerified: boolean;
  readonly role: 'user' | 'admin';
}

/** The active account with this id, or undefined (unknown, deleted, disabled). */
export async function lookupAccount(users: ServiceClient, id: string): Promise<Account | undefined> {
  if (!isNumericId(id)) return undefined;
  const response = await users.request<{ id: number; username: string; email: string | null; email_verified: boolean; role: 'user' | 'admin'; status: string }>({ method: 'GET', path: `/users/${id}` });
  if (response.status === 404) return undefined;
  if (response.status !== 200) throw platformErrors.serviceUnavailable();
  if (response.body.status !== 'active') return undefined;
  return { id: String(response.body.id), username: response.body.username, email: response.body.email, emailVerified: response.body.email_verified === true, role: response.body.role };
}
