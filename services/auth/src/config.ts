import { duration, int, list, str, url } from '@paymesh/platform/config';
import { devSecret, existingDevSecret } from '@paymesh/platform/dev-secrets';
import { serviceConfigSpec, servicePorts } from '@paymesh/platform/service-config';

/** The platform's own services, which get client_credentials clients. */
export const serviceClientNames = ['users', 'payments', 'notifications'] as const;

const devClients = () => serviceClientNames.map((name) => `${name}-service:${devSecret(`${name}-service`)}`);
const existingDevClients = () => serviceClientNames.map((name) => `${name}-service:${existingDevSecret(`${name}-service`)}`).join(',');

/** One `client_id:secret` pair of SERVICE_CLIENTS. */
export function serviceClientPair(item: string): { clientId: string; secret: string } {
  const colon = item.indexOf(':');
  const secret = item.slice(colon + 1);
  if (colon <= 0 || secret.length < 16) throw new Error('must be client_id:secret pairs with secrets of 16+ characters');
  return { clientId: item.slice(0, colon), secret };
}

export const authConfigSpec = {
  ...serviceConfigSpec('auth'),
  // auth mints its own service token (client auth-service) and presents no secret: with the shared
  // default it would need a development secret stored in var/, which a read-only container cannot write.
  clientSecret: str('SERVICE_CLIENT_SECRET', 'Not used by auth, which mints its own service tokens.', { default: '' }),
  usersUrl: url('USERS_URL', 'Internal base URL of the users service: auth asks it to check passwords and to look accounts up, with a service token it mints itself (client `auth-service`: users:credentials users:read).', { default: `http://127.0.0.1:${servicePorts.users}` }),
  serviceClients: list('SERVICE_CLIENTS', 'The platform\'s own services\' OAuth clients, as comma-separated `client_id:secret` pairs (secrets of 16+ characters; a secret may also be given as `sha256:` and the hex SHA-256 of the secret). The ids are `users-service` (may get notifications:write), `payments-service` (users:read notifications:write) and `notifications-service` (users:read); each service presents its pair as its own `SERVICE_CLIENT_ID` / `SERVICE_CLIENT_SECRET`, so the two must match. Only these clients get tokens that act for any user (`paymesh_service`). Third-party back ends are registered with `POST /auth/clients` instead.', {
    default: devClients,
    shownDefault: '(development secrets, with a warning)',
    item: (item) => void serviceClientPair(item),
    insecure: (value) => (value.join(',') === existingDevClients() ? 'using development client secrets from var/dev-secrets.json; set SERVICE_CLIENTS in production' : undefined),
  }),
  cookieKeys: list('COOKIE_KEYS', 'Comma-separated keys signing the provider\'s cookies (sessions, sign-in steps) and the sign-in forms\' CSRF tokens, newest first: prepend a new key to rotate, drop the oldest once its cookies have expired.', {
    default: () => [devSecret('auth-cookies')],
    shownDefault: '(development key, with a warning)',
    insecure: (value) => (value.join(',') === existingDevSecret('auth-cookies') ? 'using the development cookie key; set COOKIE_KEYS in production' : undefined),
  }),
  accessTokenTtlSec: duration('ACCESS_TOKEN_TTL_SECONDS', 'Lifetime of access tokens: the services\' JWTs, the client_credentials tokens and the opaque tokens for the userinfo endpoint (at most 15 minutes).', { unit: 's', default: 900, min: 60, max: 900 }),
  // Password guessing at the password logins and client authentication (services/auth/src/throttle/,
  // docs/adr/0009-unaimable-lockouts.md, docs/security.md).
  loginMaxFailuresPerAccountAndAddress: int('LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS', 'Failed logins for one account name (any spelling of its username; its email is another name, counted apart: docs/security.md) from one client address, or from one device it signed in from before, within `LOGIN_FAILURE_WINDOW_SECONDS`, before that account is locked for that address or device alone for `LOGIN_LOCKOUT_SECONDS` (429 with Retry-After, even for the right password). Other addresses and devices are not locked.', { default: 10, min: 1, max: 50 }),
  loginMaxFailuresPerIp: int('LOGIN_MAX_FAILURES_PER_IP', 'Failed logins from one client address (an IPv6 /64), over all usernames, within `LOGIN_FAILURE_WINDOW_SECONDS` before that address is locked for `LOGIN_LOCKOUT_SECONDS`. Successful logins do not count.', { default: 50, min: 1, max: 10_000 }),
  loginFailureWindowSec: duration('LOGIN_FAILURE_WINDOW_SECONDS', 'How long failed logins (and failed client authentications) are counted from the first one; the count starts again after it.', { unit: 's', default: 900, min: 1, max: 86_400 }),
  loginLockoutSec: duration('LOGIN_LOCKOUT_SECONDS', 'How long an account for one address or device, an address, or a client id for one address stays locked once it has used up its failures.', { unit: 's', default: 900, min: 1, max: 86_400 }),
  loginAccountFreeFailures: int('LOGIN_ACCOUNT_FREE_FAILURES', 'Failed logins for one account from addresses and devices it has not signed in from, before each further guess from them must wait: `LOGIN_ACCOUNT_FIRST_DELAY_SECONDS` after this many, then twice as long after each failure, up to `LOGIN_ACCOUNT_MAX_DELAY_SECONDS` (429 with Retry-After meanwhile). Never a lock: its known devices and addresses are not held back. The count starts again once the last delay has passed and then `LOGIN_FAILURE_WINDOW_SECONDS`, or this many times `LOGIN_ACCOUNT_MAX_DELAY_SECONDS` if longer, without a failure (pausing never earns more guesses than going on).', { default: 5, min: 1, max: 100 }),
  loginAccountFirstDelaySec: duration('LOGIN_ACCOUNT_FIRST_DELAY_SECONDS', 'The wait after `LOGIN_ACCOUNT_FREE_FAILURES` failures for one account from unknown addresses and devices; it doubles with each further failure.', { unit: 's', default: 1, min: 1, max: 86_400 }),
  loginAccountMaxDelaySec: duration('LOGIN_ACCOUNT_MAX_DELAY_SECONDS', 'The longest wait between two guesses at one account from addresses and devices it has not signed in from: with many addresses an attacker still gets at most one guess per this many seconds once the delays have grown.', { unit: 's', default: 900, min: 1, max: 86_400 }),
  loginKnownDeviceDays: duration('LOGIN_KNOWN_DEVICE_DAYS', 'How long an address or a device (its HttpOnly device cookie) that signed in to an account is known to it, and so spared the account-wide slowdown.', { unit: 'd', default: 30, min: 1, max: 400 }),
  clientAuthMaxFailuresPerClientAndAddress: int('CLIENT_AUTH_MAX_FAILURES_PER_CLIENT_AND_ADDRESS', 'Failed client authentications (wrong secret, unknown client, bad assertion) of one client id from one address at /auth/token, /auth/token/introspection and /auth/token/revocation within `LOGIN_FAILURE_WINDOW_SECONDS`, before that client id is refused from that address for `LOGIN_LOCKOUT_SECONDS` (429 with Retry-After). The client from other addresses is not affected.', { default: 10, min: 1, max: 1_000 }),
  clientAuthMaxFailuresPerIp: int('CLIENT_AUTH_MAX_FAILURES_PER_IP', 'Failed client authentications from one address over all client ids within `LOGIN_FAILURE_WINDOW_SECONDS`, before that address is refused at the token endpoints for `LOGIN_LOCKOUT_SECONDS`.', { default: 50, min: 1, max: 10_000 }),
  keyRotationDays: duration('SIGNING_KEY_ROTATION_DAYS', 'Age at which the signing key is replaced by a new one (the old one stays published until its tokens have expired).', { unit: 'd', default: 30, min: 1, max: 3650 }),
  keyRefreshSec: duration('SIGNING_KEY_REFRESH_SECONDS', 'How often auth checks its signing keys (rotation by schedule or by `npm run keys:rotate`).', { unit: 's', default: 60, min: 1, max: 3600 }),
  keyPublishLeadSec: duration('SIGNING_KEY_PUBLISH_LEAD_SECONDS', 'How long a new signing key is published before it signs; keep it above SIGNING_KEY_REFRESH_SECONDS plus the services\' JWKS_COOLDOWN_SECONDS.', { unit: 's', default: 120, min: 0, max: 86_400 }),
  authorizationCodeTtlSec: duration('AUTHORIZATION_CODE_TTL_SECONDS', 'Lifetime of an authorization code (RFC 9700 asks for a short one).', { unit: 's', default: 60, min: 1, max: 600 }),
  refreshTokenTtlSec: duration('REFRESH_TOKEN_TTL_SECONDS', 'Absolute lifetime of a refresh token chain (rotation never extends it).', { unit: 's', default: 14 * 24 * 60 * 60, min: 2 }),
  oauthClients: str('OAUTH_CLIENTS', 'JSON array of OAuth client metadata (RFC 7591 names: client_id, client_secret or token_endpoint_auth_method "none", redirect_uris, grant_types, scope…) registered at start: apps that sign users in with the authorization code flow (grant_types authorization_code and refresh_token only; client_credentials is refused at boot). `paymesh_resource_scopes` (an object: resource indicator → space-separated scopes) limits an app to those resources. Clients registered with `POST /auth/clients` live in the database instead.', { default: '[]' }),
  firstPartyClients: list('FIRST_PARTY_CLIENTS', 'Comma-separated client ids (from `OAUTH_CLIENTS`) of the platform\'s own apps: their users are not asked for consent, they may ask for the platform-wide audience `urn:paymesh:platform`, and admins signing in through them keep their admin role.', { default: [] }),
};
