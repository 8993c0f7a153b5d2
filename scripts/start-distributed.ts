// `npm run start:distributed`: one process per service against the machine's PostgreSQL (one
// database each, created when missing) and NATS JetStream. POSTGRES_URL names the server
// (default postgres://postgres@127.0.0.1:5432/postgres), NATS_URL the broker.
import { resolve } from 'node:path';
import { varDir } from '@paymesh/platform/dev-secrets';
import { ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { startDistributed } from '@paymesh/app/start-distributed';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';

const adminUrl = process.env.POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const databaseUrls = {} as Record<ServiceName, string>;
for (const name of serviceNames) databaseUrls[name] = await ensureDatabase(adminUrl, `paymesh_${name}`);

const platform = await startDistributed({
  databaseUrls,
  natsUrl,
  env: { ...process.env, BOOTSTRAP_ADMIN_PASSWORD_FILE: process.env.BOOTSTRAP_ADMIN_PASSWORD_FILE ?? resolve(varDir, 'bootstrap-admin-distributed.txt') },
});
process.stderr.write(`\nPaymesh is up — distributed mode: gateway ${platform.gatewayUrl}, databases paymesh_<service> on ${new URL(adminUrl).host}, events on ${natsUrl}\nCtrl-C stops every process gracefully.\n\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void platform.stop().then(() => process.exit(0)));
}
