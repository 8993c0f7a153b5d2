import { describeConfig } from '@paymesh/platform/config';
import { serviceConfigSpec } from '@paymesh/platform/service-config';
import { authConfigSpec } from '../services/auth/src/config.ts';
import { gatewayConfigSpec } from '../services/gateway/src/config.ts';
import { notificationsConfigSpec } from '../services/notifications/src/config.ts';
import { paymentsConfigSpec } from '../services/payments/src/config.ts';
import { usersConfigSpec } from '../services/users/src/config.ts';

export function configDocs(): string {
  const shared = serviceConfigSpec('users');
  const own = (spec: Record<string, unknown>) => Object.fromEntries(Object.entries(spec).filter(([key]) => !(key in shared))) as typeof shared;
  const table = (spec: Parameters<typeof describeConfig>[0]) => `| variable | what it affects | default |\n|---|---|---|\n${describeConfig(spec)}\n`;
  return [
    '# Configuration',
    '',
    'Every service reads its configuration from the environment once, at boot, and refuses to start when a value is invalid (all problems are listed together). Values that are unsafe in production (development secrets) start the service with a loud warning. This file is generated from the code by `npm run docs:config`; a test fails when it is stale.',
    '',
    'Durations (keys ending in `_MS`, `_SECONDS`, `_DAYS`, and `NOTIFICATIONS_RETRY_DELAYS`) are a number in the unit the name says, or a number with its own unit: `1500ms`, `90s`, `15m`, `2h`, `30d`. Lists are comma-separated; spaces around items and empty items are ignored.',
    '',
    'Defaults that name a port, a URL or a folder are those of a laptop: embedded mode (`npm start`) and `npm run start:distributed` set the service URLs themselves. The development secrets live in `var/dev-secrets.json` (gitignored, created on first use).',
    '',
    '## Every service (auth, users, payments, notifications)',
    '',
    'The defaults of `HTTP_PORT`, `METRICS_PORT` and `DATA_DIR` differ per service (auth 3001/9101, users 3002/9102, payments 3003/9103, notifications 3004/9104); users\' are shown.',
    '',
    table(shared),
    '## auth',
    '',
    table(own(authConfigSpec as never)),
    '## users',
    '',
    table(own(usersConfigSpec as never)),
    '## payments',
    '',
    table(own(paymentsConfigSpec as never)),
    '## notifications',
    '',
    table(own(notificationsConfigSpec as never)),
    '## gateway',
    '',
    table(gatewayConfigSpec as never),
    '## Launchers',
    '',
    '| variable | what it affects | default |',
    '|---|---|---|',
    '| `PAYMESH_DATA_ROOT` | `npm start`: parent folder of the PGlite data: the platform\'s one cluster in `platform/` (a schema and a role per service, ADR 29), or one cluster per service in `<service>/` for a folder made before it. | `var/data` |',
    '| `PAYMESH_PORTS` | `npm start`: `random` picks free ports for the services (the gateway still uses `PORT`). | (documented ports) |',
    '| `USERS_SERVICE_CLIENT_SECRET`, `PAYMENTS_SERVICE_CLIENT_SECRET`, `NOTIFICATIONS_SERVICE_CLIENT_SECRET` | `npm start`, `npm run start:distributed`: each service\'s client secret, given to it as `SERVICE_CLIENT_SECRET`. With `SERVICE_CLIENTS` unset, both are generated afresh for the run; when you set `SERVICE_CLIENTS`, set these to the same secrets. | (generated per run) |',
    '| `POSTGRES_URL` | `npm run start:distributed`: the server on which `paymesh_<service>` databases are created. | `postgres://postgres@127.0.0.1:5432/postgres` |',
    '| `TEST_DATABASE_URL`, `TEST_NATS_URL` | `npm test`: also run the suite on this PostgreSQL server and over this NATS (CI sets both). | (unset: PGlite only) |',
    '',
  ].join('\n');
}
