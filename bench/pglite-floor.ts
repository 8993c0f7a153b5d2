// The floor of embedded mode for the start-up benchmark: open (or create) the platform's PGlite
// cluster with its four schemas and roles, with the platform's settings, say ready, exit on
// SIGINT. Nothing else: no migrations, no services.
import { resolve } from 'node:path';
import { openEmbeddedCluster } from '@paymesh/platform/db/embedded-cluster';
import { createLogger } from '@paymesh/platform/logger';

const dir = process.argv[2]!;
const logger = createLogger('floor', 'silent');
const cluster = await openEmbeddedCluster({ dataDir: resolve(dir, 'platform'), services: { auth: [], users: [], payments: [], notifications: [] }, logger });
// The handler is installed before saying ready: a SIGINT sent on reading that line must find it.
process.once('SIGINT', () => void cluster.close().then(() => process.exit(0)));
process.stdout.write('{"ready":true}\n');
