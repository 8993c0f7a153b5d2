// CI's precondition: the PostgreSQL and NATS JetStream servers the suite is pointed at answer.
// Without it a green run could hide skipped tests.
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

const databaseUrl = process.env.TEST_DATABASE_URL;
const natsUrl = process.env.TEST_NATS_URL;
if (databaseUrl === undefined || natsUrl === undefined) {
  console.error('TEST_DATABASE_URL and TEST_NATS_URL must both be set');
  process.exit(1);
}
try {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('show server_version');
  await client.end();
  console.log(`PostgreSQL ${rows[0]!.server_version} at ${new URL(databaseUrl).host}`);
} catch (error) {
  console.error(`PostgreSQL unreachable at ${databaseUrl}: ${String(error)}`);
  process.exit(1);
}
try {
  const nc = await connect({ servers: natsUrl, timeout: 5_000 });
  const info = await (await jetstreamManager(nc)).getAccountInfo();
  console.log(`NATS ${nc.info?.version} with JetStream (${info.streams} streams) at ${natsUrl}`);
  await nc.close();
} catch (error) {
  console.error(`NATS JetStream unreachable at ${natsUrl}: ${String(error)}`);
  process.exit(1);
}
