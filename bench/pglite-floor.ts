// The floor of embedded mode for the start-up benchmark: open (or create) four PGlite databases
// with the platform's settings, say ready, exit on SIGINT. Nothing else.
import { resolve } from 'node:path';
import { openDatabase } from '@paymesh/platform/db/open-database';
import { createLogger } from '@paymesh/platform/logger';

const dir = process.argv[2]!;
const logger = createLogger('floor', 'silent');
const databases: Awaited<ReturnType<typeof openDatabase>>[] = [];
for (const name of ['auth', 'users', 'payments', 'notifications']) {
  databases.push(await openDatabase({ url: undefined, dataDir: resolve(dir, name), migrations: [], logger }));
}
// The handler is installed before saying ready: a SIGINT sent on reading that line must find it.
process.once('SIGINT', () => void Promise.all(databases.map((d) => d.close())).then(() => process.exit(0)));
process.stdout.write('{"ready":true}\n');
