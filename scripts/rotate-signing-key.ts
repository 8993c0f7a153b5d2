// `npm run keys:rotate`: adds a new signing key to auth's database. It is published at once and
// signs after SIGNING_KEY_PUBLISH_LEAD_SECONDS (default 120); running auth instances pick it up
// within SIGNING_KEY_REFRESH_SECONDS. Uses DATABASE_URL (auth's PostgreSQL database) or, without
// it, the embedded folder var/data/auth, which only one process can open: stop `npm start` first.
import { resolve } from 'node:path';
import { loadConfig } from '@paymesh/platform/config';
import { openDatabase } from '@paymesh/platform/db/open-database';
import { createLogger } from '@paymesh/platform/logger';
import { authConfigSpec } from '../services/auth/src/config.ts';
import { rotateSigningKey } from '../services/auth/src/keys/load-signing-keys.ts';

const { config } = loadConfig(authConfigSpec);
const logger = createLogger('keys', 'warn');
const database = await openDatabase({
  url: config.databaseUrl,
  dataDir: config.dataDir,
  migrations: [
    { scope: 'platform', dir: resolve(import.meta.dirname, '../packages/platform/migrations') },
    { scope: 'auth', dir: resolve(import.meta.dirname, '../services/auth/migrations') },
  ],
  logger,
});
try {
  const kid = await rotateSigningKey(database.db, config.keyPublishLeadSec);
  process.stdout.write(`new signing key ${kid}: published now, signing in ${config.keyPublishLeadSec} s; the previous key stays published until its tokens have expired\n`);
} finally {
  await database.close();
}
