// A SIGTERM is an orderly stop whatever the dependencies do meanwhile: with PostgreSQL and NATS
// going away at the same moment, payments and notifications still drain (bounded) and exit 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultProxy } from '@paymesh/app/testing/fault-proxy';
import { startDistributedTestPlatform, testDatabaseUrl, testNatsUrl } from '@paymesh/app/testing';

const skip = testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL' : false;

test('a SIGTERM while PostgreSQL and NATS go away at the same moment still ends with exit status 0', { skip }, async () => {
  const database = await FaultProxy.start({ port: Number(new URL(testDatabaseUrl!).port || 5432) });
  const nats = await FaultProxy.start({ port: Number(new URL(testNatsUrl!).port || 4222) });
  // A short grace keeps the bounded drain short; the rule is the exit status, not the time.
  try {
    await sigtermUnderFaults(database, nats);
  } finally {
    // Closed even when the platform never started: an open proxy would keep the test running.
    await database.close();
    await nats.close();
  }
});

async function sigtermUnderFaults(database: FaultProxy, nats: FaultProxy): Promise<void> {
  const platform = await startDistributedTestPlatform({ databaseProxy: database, natsProxy: nats, env: { SHUTDOWN_GRACE_MS: '3000' } });
  try {
    const user = await platform.api.signUp();
    // Work in the outbox and the consumers, so the drain has something to flush.
    const paid = await platform.api.call('POST', '/payments', { token: user.token, json: { amount: '1.00', user_id: user.id } });
    assert.equal(paid.status, 200);
    const exited = (['payments', 'notifications'] as const).map((name) => {
      const child = platform.processes![name];
      return new Promise<number | null>((resolve) => {
        // Bounded: a process that never exits is killed, and fails the test on its status.
        const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.once('exit', (code) => {
          clearTimeout(killer);
          resolve(code);
        });
      });
    });
    await Promise.all([database.refuse(), nats.refuse()]);
    platform.processes!.payments.kill('SIGTERM');
    platform.processes!.notifications.kill('SIGTERM');
    const [payments, notifications] = await Promise.all(exited);
    assert.equal(payments, 0, platform.logs!('payments').split('\n').slice(-8).join('\n'));
    assert.equal(notifications, 0, platform.logs!('notifications').split('\n').slice(-8).join('\n'));
  } finally {
    await platform.stop();
  }
}
