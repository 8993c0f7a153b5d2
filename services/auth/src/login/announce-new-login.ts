// "New sign-in to your account": a password sign-in from a device and an address the account has
// not signed in from (login-throttle.ts knows them) announces user.new_login, and notifications
// tells the user. Both password logins (POST /auth/login and the login page) announce it.
import type { Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { UserNewLogin } from '../events.ts';
import type { CheckedUser } from './check-credentials.ts';

/** What the user is shown to recognise the sign-in: the client's address and its browser, shortened. */
export function announceNewLogin(request: { readonly ip: string; readonly headers: { readonly 'user-agent'?: string } }): (tx: Db, user: CheckedUser) => Promise<void> {
  const userAgent = request.headers['user-agent'];
  return async (tx, user) => {
    await enqueue(tx, UserNewLogin, { user_id: Number(user.id), ip: request.ip, ...(userAgent === undefined || userAgent === '' ? {} : { user_agent: userAgent.slice(0, 200) }) });
  };
}
