// The Secrets an operator creates before applying the manifests (docs/deploy.md, Secrets), with
// fresh random values: for the policy tests (is every service fully configured?) and the launch.
import { randomBytes } from 'node:crypto';
import type { SecretValues } from './pod-env.ts';

const clientServices = ['users', 'payments', 'notifications'] as const;

export interface TestSecretOptions {
  readonly databaseUrls: Record<'auth' | 'users' | 'payments' | 'notifications', string>;
  readonly natsUrl: string;
  readonly adminPassword?: string;
}

export function testSecrets(options: TestSecretOptions): SecretValues {
  const secret = () => randomBytes(32).toString('base64url');
  const clients = Object.fromEntries(clientServices.map((name) => [name, secret()])) as Record<(typeof clientServices)[number], string>;
  return {
    'paymesh-nats': { NATS_URL: options.natsUrl },
    'paymesh-auth': {
      DATABASE_URL: options.databaseUrls.auth,
      // auth mints its own service tokens; the key is read at start all the same.
      SERVICE_CLIENT_SECRET: secret(),
      SERVICE_CLIENTS: clientServices.map((name) => `${name}-service:${clients[name]}`).join(','),
      COOKIE_KEYS: secret(),
    },
    'paymesh-users': { DATABASE_URL: options.databaseUrls.users, SERVICE_CLIENT_SECRET: clients.users, BOOTSTRAP_ADMIN_PASSWORD: options.adminPassword ?? `Admin-${secret()}` },
    'paymesh-payments': { DATABASE_URL: options.databaseUrls.payments, SERVICE_CLIENT_SECRET: clients.payments, PAYMENTS_FINGERPRINT_KEY: secret() },
    'paymesh-notifications': { DATABASE_URL: options.databaseUrls.notifications, SERVICE_CLIENT_SECRET: clients.notifications },
  };
}

/** Secrets for checks that start nothing: well-formed URLs to hosts that are never contacted. */
export function offlineTestSecrets(): SecretValues {
  const url = (name: string) => `postgres://${name}:${randomBytes(8).toString('hex')}@postgresql.example.com:5432/${name}`;
  return testSecrets({ databaseUrls: { auth: url('auth'), users: url('users'), payments: url('payments'), notifications: url('notifications') }, natsUrl: 'nats://nats.example.com:4222' });
}
