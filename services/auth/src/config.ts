import { int, str, url } from '@paymesh/platform/config';
import { devSecret, existingDevSecret } from '@paymesh/platform/dev-secrets';
import { serviceConfigSpec, servicePorts } from '@paymesh/platform/service-config';

/** The platform's own services, which get client_credentials clients. */
export const serviceClientNames = ['users', 'payments', 'notifications'] as const;

const devClients = () => serviceClientNames.map((name) => `${name}-service:${devSecret(`${name}-service`)}`).join(',');
const existingDevClients = () => serviceClientNames.map((name) => `${name}-service:${existingDevSecret(`${name}-service`)}`).join(',');

export const authConfigSpec = {
  ...serviceConfigSpec('auth'),
  usersUrl: url('USERS_URL', 'Internal base URL of the users service (credential checks).', { default: `http://127.0.0.1:${servicePorts.users}` }),
  serviceClients: str('SERVICE_CLIENTS', 'Comma-separated `client_id:secret` pairs of the services allowed to use client_credentials.', {
    default: devClients,
    shownDefault: '(development secrets, with a warning)',
    insecure: (value) => (value === existingDevClients() ? 'using development client secrets from var/dev-secrets.json; set SERVICE_CLIENTS in production' : undefined),
  }),
  cookieKeys: str('COOKIE_KEYS', 'Comma-separated keys signing the provider cookies (newest first).', {
    default: () => devSecret('auth-cookies'),
    shownDefault: '(development key, with a warning)',
    insecure: (value) => (value === existingDevSecret('auth-cookies') ? 'using the development cookie key; set COOKIE_KEYS in production' : undefined),
  }),
  accessTokenTtlSec: int('ACCESS_TOKEN_TTL_SECONDS', 'Lifetime of access tokens (at most 15 minutes).', { default: 900, min: 60, max: 900 }),
};
