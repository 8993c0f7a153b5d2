// A declared service hosted by the kit (service-host.ts): what it consumes is subscribed, what it
// enqueues in a transaction goes out once the transaction commits without anyone kicking the
// relay, a subject it does not declare is refused, what `afterCommit` queues runs after a commit
// and never after a rollback, its jobs run, and the ordered shutdown stops them all and closes its
// database.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Type } from 'typebox';
import { queryRows, sql } from '../src/db/open-database.ts';
import { consume } from '../src/events/consume.ts';
import { defineEvent } from '../src/events/define-event.ts';
import { enqueue } from '../src/events/enqueue.ts';
import { afterCommit } from '../src/events/outbox-scope.ts';
import { InProcessTransport } from '../src/events/in-process-transport.ts';
import { createLogger } from '../src/logger.ts';
import { defineService } from '../src/service-declaration.ts';
import { serviceConfigSpec } from '../src/service-config.ts';
import { hostService, type HostedService } from '../src/service-host.ts';
import { eventually } from './eventually.ts';

const ThingDone = defineEvent({ subject: 'thing.done', version: 1, producer: 'payments', description: 'A thing was done.', schema: Type.Object({ n: Type.Integer() }) });
const ThingUndeclared = defineEvent({ subject: 'thing.undeclared', version: 1, producer: 'payments', description: 'Not in the declaration.', schema: Type.Object({}) });

interface Seen {
  readonly heard: string[];
  passes: number;
}

const declaration = defineService({
  name: 'payments',
  config: serviceConfigSpec('payments'),
  // No tables of its own: the platform's outbox and inbox are enough here.
  migrations: mkdtempSync(join(tmpdir(), 'kit-migrations-')),
  api: { title: 'A kit test service', description: 'No routes of its own.', tags: [] },
  async context(): Promise<Seen> {
    return { heard: [], passes: 0 };
  },
  routes() {},
  publishes: [ThingDone],
  consumes: (seen) => [consume(ThingDone, async (_tx, event) => void seen.heard.push(event.id))],
  jobs: [{ name: 'counting job', everyMs: 10, run: async (seen) => void seen.passes++ }],
});

describe('a declared service, hosted by the kit', () => {
  let hosted: HostedService<Seen>;
  before(async () => {
    const env = { HTTP_PORT: '0', METRICS_PORT: '0', DATA_DIR: 'memory://', SERVICE_CLIENT_SECRET: 'kit-test-secret-0123456789', LOG_LEVEL: 'silent' };
    hosted = await hostService(declaration, { env, transport: new InProcessTransport(), logger: createLogger('payments', 'silent') });
  });
  after(async () => {
    await hosted?.close();
  });

  test('an event enqueued in a transaction reaches the consumer the declaration lists, and its jobs run', async () => {
    const { db } = hosted.runtime.database;
    const event = await db.transaction((tx) => enqueue(tx, ThingDone, { n: 1 }));
    await eventually(async () => (hosted.context.heard.includes(event.id) ? true : undefined));
    await eventually(async () => (hosted.context.passes > 0 ? true : undefined));
  });

  test('a subject the declaration does not publish is refused, and nothing of its transaction is kept', async () => {
    const { db } = hosted.runtime.database;
    await assert.rejects(db.transaction((tx) => enqueue(tx, ThingUndeclared, {})), /payments enqueued thing\.undeclared, which its declaration does not publish/);
    const rows = await queryRows(db, sql`select 1 from outbox where subject = 'thing.undeclared'`);
    assert.equal(rows.length, 0);
  });

  test('afterCommit runs its effect once the transaction commits, never when it rolls back, and refuses outside one', async () => {
    const { db } = hosted.runtime.database;
    const ran: string[] = [];
    await db.transaction(async (tx) => {
      afterCommit(() => ran.push('committed'));
      await tx.execute(sql`select 1`);
      // Not yet: the transaction is still open.
      assert.deepEqual(ran, []);
    });
    assert.deepEqual(ran, ['committed']);
    await assert.rejects(db.transaction(async () => {
      afterCommit(() => ran.push('rolled back'));
      throw new Error('the change fails');
    }), /the change fails/);
    assert.deepEqual(ran, ['committed']);
    assert.throws(() => afterCommit(() => ran.push('outside')), /outside a transaction/);
  });

  test('the shutdown stops its jobs and closes its database', async () => {
    await hosted.close();
    const passes = hosted.context.passes;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(hosted.context.passes, passes, 'a job ran after the shutdown');
    await assert.rejects(hosted.runtime.database.ping());
  });
});
