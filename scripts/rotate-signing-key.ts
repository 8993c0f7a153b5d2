// `npm run keys:rotate`: adds a new signing key to auth's database. It is published at once and
// signs after SIGNING_KEY_PUBLISH_LEAD_SECONDS (default 120); running auth instances pick it up
// within SIGNING_KEY_REFRESH_SECONDS. Uses DATABASE_URL (auth's PostgreSQL database), DATA_DIR
// (auth run on its own on PGlite), or else the data of `npm start` under var/data (auth's schema
// of the platform's cluster, or var/data/auth from before it, ADR 29), which only one process can
// open: stop `npm start` first.
import { resolve } from 'node:path';
import { clusterDir, dataLayout } from '@paymesh/app/data-layout';
import { loadConfig } from '@paymesh/platform/config';
import { openEmbeddedCluster } from '@paymesh/platform/db/embedded-cluster';
import { openDatabase, type Database } from '@paymesh/platform/db/open-database';
import { varDir } from '@paymesh/platform/dev-secrets';
import { createLogger } from '@paymesh/platform/logger';
import { migrationSets } from '@paymesh/platform/runtime';
import { authConfigSpec } from '../services/auth/src/config.ts';
import { rotateSigningKey } from '../services/auth/src/keys/load-signing-keys.ts';

const { config } = loadConfig(authConfigSpec);
const logger = createLogger('keys', 'warn');
const migrations = migrationSets('auth', resolve(import.meta.dirname, '../services/auth/migrations'));
const dataRoot = resolve(varDir, 'data');
const inCluster = config.databaseUrl === undefined && process.env.DATA_DIR === undefined && dataLayout(dataRoot) === 'cluster';
const cluster = inCluster ? await openEmbeddedCluster({ dataDir: clusterDir(dataRoot), services: { auth: migrations }, logger }) : undefined;
const database: Database = cluster?.database('auth') ?? await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, migrations, logger });
try {
  const kid = await rotateSigningKey(database.db, config.keyPublishLeadSec);
  process.stdout.write(`new signing key ${kid}: published now, signing in ${config.keyPublishLeadSec} s; the previous key stays published until its tokens have expired\n`);
} finally {
  await database.close();
  await cluster?.close();
}
