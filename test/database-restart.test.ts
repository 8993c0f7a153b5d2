// A PostgreSQL restart is ridden out: every session is terminated (57P01, what a restart sends),
// then connections are refused for a while, then the server is back. No service exits; requests
// meanwhile get 503 database_unavailable with Retry-After; readiness is false, then true again;
// background work (the outbox relay, the consumers) resumes, so every payment is notified once.
// The machine's PostgreSQL is never touched: the services reach it through a proxy we refuse.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { FaultProxy } from '@paymesh/app/testing/fault-proxy';
import { eventually, startDistributedTestPlatform, testDatabaseUrl, testNatsUrl, type TestPlatform } from '@paymesh/app/testing';
import { serviceNames } from '@paymesh/app/ports';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

const skip = testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL' : false;

/** Terminates every session of the platform's databases, as a restarting server does. */
async function terminateSessions(platform: TestPlatform): Promise<void> {
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  try {
    const names = Object.values(platform.databaseUrls!).map((url) => new URL(url).pathname.slice(1));
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = any($1) and pid <> pg_backend_pid()', [names]);
  } finally {
    await admin.end();
  }
}

async function ready(platform: TestPlatform, service: 'payments' | 'notifications'): Promise<number> {
  const response = await fetch(`${platform.serviceUrl!(service)}/readyz`, { signal: AbortSignal.timeout(10_000) });
  await response.body?.cancel();
  return response.status;
}

describeOrSkip('a PostgreSQL restart', skip, () => {
  let proxy: FaultProxy;
  let platform: TestPlatform;
  before(async () => {
    proxy = await FaultProxy.start({ port: Number(new URL(testDatabaseUrl!).port || 5432) });
    platform = await startDistributedTestPlatform({ databaseProxy: proxy });
  });
  after(async () => {
    await platform?.stop();
    await proxy?.close();
  });

  test('a database restart is ridden out: 503 database_unavailable meanwhile, no exit, readiness and background work come back', async () => {
    const { api } = platform;
    const user = await api.signUp();
    const pay = () => api.call('POST', '/payments', { token: user.token, json: { amount: '1.00', user_id: user.id } });
    const before = await pay();
    assert.equal(before.status, 200);

    await proxy.refuse();
    await terminateSessions(platform);
    // Every process still runs while the database is away, and requests fail cleanly.
    const during = await Promise.all([pay(), pay(), api.call('GET', '/notifications', { token: user.token })]);
    for (const response of during) {
      assert.equal(response.status, 503, JSON.stringify(response.body));
      assert.equal(response.body.error.code, 'database_unavailable');
      assert.ok(Number(response.headers.get('retry-after')) > 0, 'Retry-After is set');
    }
    assert.equal(await ready(platform, 'payments'), 503, 'payments is not ready while its database is away');
    assert.equal(await ready(platform, 'notifications'), 503, 'notifications is not ready while its database is away');

    await proxy.restore();
    await eventually(async () => ((await ready(platform, 'payments')) === 200 && (await ready(platform, 'notifications')) === 200 ? true : undefined), { timeoutMs: 30_000, intervalMs: 200 });
    const afterwards = await pay();
    assert.equal(afterwards.status, 200, JSON.stringify(afterwards.body));
    for (const name of [...serviceNames, 'gateway' as const]) assert.equal(platform.processes![name].exitCode, null, `${name} is still running`);

    // The relay and the consumers resumed: both payments are notified, each once.
    const paid = [before.body.payment.id, afterwards.body.payment.id];
    const notified = await eventually(async () => {
      const list = await api.call('GET', '/notifications?limit=100', { token: user.token });
      if (list.status !== 200) return undefined;
      const ids = list.body.map((n: { data: { payment_id?: string } }) => n.data.payment_id).filter((id: string | undefined) => id !== undefined);
      return paid.every((id) => ids.includes(id)) ? ids : undefined;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    assert.equal(notified.length, new Set(notified).size, 'no payment is notified twice');
  });
});
