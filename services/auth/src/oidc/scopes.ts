import { platformWideAudience, serviceAudience } from '@paymesh/platform/service-config';

// The platform's resource servers (RFC 8707 resource indicators, which are also the audiences each
// service requires), their scopes, and who may have which. Maps, not objects: they are looked up
// with names a caller chose, and `constructor` or `__proto__` must be unknown, not Object's.
const serviceResources = new Map<string, readonly string[]>([
  [serviceAudience('auth'), []],
  [serviceAudience('users'), ['users:read', 'users:write', 'users:admin', 'users:credentials']],
  [serviceAudience('payments'), ['payments:read', 'payments:write']],
  [serviceAudience('notifications'), ['notifications:read', 'notifications:write']],
]);

export const apiScopes = [...serviceResources.values()].flat();

/**
 * The first-party audience every service accepts beside its own: the contract's one token for
 * all services (POST /auth/login), and first-party apps that want the same. Third-party apps
 * cannot ask for it: their tokens are for one service each.
 */
export const platformAudience = platformWideAudience;
export const resourceScopes: ReadonlyMap<string, readonly string[]> = new Map([...serviceResources, [platformAudience, apiScopes]]);

export const platformAudiences = [...resourceScopes.keys()];

/** What a signed-in user's token carries; admins also get users:admin. */
export function userScopes(role: 'user' | 'admin'): string[] {
  const scopes = ['payments:read', 'payments:write', 'users:read', 'users:write', 'notifications:read', 'notifications:write'];
  return role === 'admin' ? [...scopes, 'users:admin'] : scopes;
}

/** The audience of the service a service client calls. */
export const usersAudience = serviceAudience('users');
export const authAudience = serviceAudience('auth');

/** Scopes only the platform's own services hold: never a registered client's. */
export const serviceOnlyScopes: ReadonlySet<string> = new Set(['users:credentials']);

/** Scopes that make an admin: for first-party apps only (and then only for admins). */
export const adminScopes: ReadonlySet<string> = new Set(['users:admin']);

/** What each service's client may request with client_credentials. */
export const serviceClientScopes: ReadonlyMap<string, string> = new Map([
  ['auth-service', 'users:credentials users:read'],
  ['users-service', 'notifications:write'],
  ['payments-service', 'users:read notifications:write'],
  ['notifications-service', 'users:read'],
]);

/**
 * What each scope lets an app do, in the words the consent page shows a person (the scope's name
 * follows, for whoever reads the app's documentation). A scope without a sentence shows its name.
 */
export const scopeSentences: ReadonlyMap<string, string> = new Map([
  ['openid', 'Know which Paymesh account is yours'],
  ['profile', 'See your username and display name'],
  ['email', 'See your email address'],
  ['offline_access', 'Keep this access while you are away, until you sign out of the app'],
  ['payments:read', 'See your payments, saved cards and wallet'],
  ['payments:write', 'Make payments and wallet top-ups in your name'],
  ['notifications:read', 'Read your inbox and notification settings'],
  ['notifications:write', 'Mark your notifications read and change how you are notified'],
  ['users:read', 'See your account'],
  ['users:write', 'Change your profile and password, and delete your account'],
  ['users:admin', 'Administer every Paymesh account'],
]);
