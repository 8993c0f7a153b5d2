// A service started before PostgreSQL or NATS answers waits for them, with a log line per wait,
// and exits 1 only past STARTUP_DEPENDENCY_TIMEOUT_SECONDS. The machine's servers are never
// touched: the services reach them through proxies that refuse connections until restored.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { FaultProxy } from '@paymesh/app/testing/fault-proxy';
import { freePorts } from '@paymesh/app/free-ports';
import { eventually, startDistributedTestPlatform, testDatabaseUrl, testNatsUrl } from '@paymesh/app/testing';
import { ensureDatabase, dropDatabase } from '@paymesh/platform/db/ensure-database';
import { serviceNames } from '@paymesh/app/ports';

const skip = testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL' : false;
const postgresPort = () => Number(new URL(testDatabaseUrl!).port || 5432);
const natsPort = () => Number(new URL(testNatsUrl!).port || 4222);

test('services started before PostgreSQL and NATS answer wait for them and become ready', { skip }, async () => {
  const database = await FaultProxy.start({ port: postgresPort() });
  const nats = await FaultProxy.start({ port: natsPort() });
  await database.refuse();
  await nats.refuse();
  const logDir = mkdtempSync(join(tmpdir(), 'paymesh-startup-'));
  const starting = startDistributedTestPlatform({ databaseProxy: database, natsProxy: nats, logDir });
  // A failed start is awaited (and reported) in the try below, not left unhandled meanwhile.
  starting.catch(() => undefined);
  let platform: Awaited<typeof starting> | undefined;
  try {
    // Once every service has found its database missing and said it waits, bring both up.
    const logged = (name: string) => {
      try {
        return readFileSync(join(logDir, `${name}.log`), 'utf8');
      } catch {
        return '';
      }
    };
    await eventually(async () => (serviceNames.every((name) => /unavailable at start; waiting/.test(logged(name))) ? true : undefined), { timeoutMs: 60_000, intervalMs: 100 });
    await database.restore();
    await nats.restore();
    platform = await starting;
    for (const name of serviceNames) {
      assert.equal(platform.processes![name].exitCode, null, `${name} still runs`);
      assert.match(platform.logs!(name), /unavailable at start; waiting/, `${name} logged its wait`);
    }
    const user = await platform.api.signUp();
    const paid = await platform.api.call('POST', '/payments', { token: user.token, json: { amount: '1.00', user_id: user.id } });
    assert.equal(paid.status, 200);
  } finally {
    // The proxies are closed even when the platform never started (they would keep the test running).
    const started = platform ?? (await starting.catch(() => undefined));
    await started?.stop();
    await database.close();
    await nats.close();
  }
});

test('a service whose database never answers exits 1 once the start-up deadline has passed', { skip }, async () => {
  const database = await FaultProxy.start({ port: postgresPort() });
  await database.refuse();
  const name = `t_startup_${process.pid}`;
  const url = await ensureDatabase(testDatabaseUrl!, name);
  const [httpPort, metricsPort] = await freePorts(2);
  const child = spawn(process.execPath, [resolve(import.meta.dirname, '../services/notifications/src/main.ts')], {
    env: { ...process.env, LOG_LEVEL: 'info', DATABASE_URL: database.rewrite(url), NATS_URL: testNatsUrl, NATS_STREAM: `TSTART${process.pid}`, HTTP_PORT: String(httpPort), METRICS_PORT: String(metricsPort), STARTUP_DEPENDENCY_TIMEOUT_SECONDS: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    // Bounded: a process that never exits is killed and the test fails on its exit code.
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
    clearTimeout(killer);
    assert.equal(code, 1, output);
    assert.match(output, /database unavailable at start; waiting/);
    assert.match(output, /still unavailable at the start-up deadline; giving up/);
  } finally {
    child.kill('SIGKILL');
    await database.close();
    await dropDatabase(testDatabaseUrl!, name);
  }
});
