// A relay process that claims events and never finishes publishing them: the test kills it with
// SIGKILL while it holds its lease, as a crash would. Usage: node hung-relay.ts <database url>.
import { resolve } from 'node:path';
import { openDatabase } from '../src/db/open-database.ts';
import type { EventTransport } from '../src/events/event.ts';
import { OutboxRelay } from '../src/events/outbox-relay.ts';
import { createLogger } from '../src/logger.ts';

const logger = createLogger('hung-relay', 'silent');
const database = await openDatabase({ url: process.argv[2], dataDir: 'memory://', migrations: [{ scope: 'platform', dir: resolve(import.meta.dirname, '../migrations') }], logger });
const hung: EventTransport = {
  kind: 'in-process',
  publish: () => new Promise<void>(() => {}),
  consume: () => Promise.reject(new Error('not used')),
  broadcast: () => Promise.reject(new Error('not used')),
  ping: async () => {},
  close: async () => {},
};
new OutboxRelay({ db: database.db, transport: hung, logger }).start();
