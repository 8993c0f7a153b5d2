// Two replicas of a service starting at the same moment on a fresh PostgreSQL database, as a
// Deployment's pods do on a first install or after a release that brings migrations: both become
// ready, every migration is applied exactly once (by one of them), and neither logs an error.
// Each pair is two real processes (services/<name>/src/main.ts) with the environment the
// Kubernetes manifests give them (every secret set, nothing written under var/). ADR 20.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePorts } from '@paymesh/app/free-ports';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';
import { testDatabaseUrl, testNatsUrl } from '@paymesh/app/testing';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';

const repoRoot = resolve(import.meta.dirname, '../..');
const skip = testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL (CI sets both)' : false;

interface Replica {
  readonly child: ChildProcess;
  readonly httpPort: number;
  output: string;
}

/** The secrets a Kubernetes Secret gives each service: with them, nothing is written under var/. */
function secretEnv(service: ServiceName): Record<string, string> {
  const secret = () => randomBytes(32).toString('base64url');
  const clientSecret = secret();
  const common = { SERVICE_CLIENT_SECRET: clientSecret };
  switch (service) {
    case 'auth':
      return { ...common, COOKIE_KEYS: secret(), SERVICE_CLIENTS: ['users', 'payments', 'notifications'].map((name) => `${name}-service:${secret()}`).join(',') };
    case 'users':
      return { ...common, BOOTSTRAP_ADMIN_PASSWORD: `K8s-replicas-${secret()}` };
    case 'payments':
      return { ...common, PAYMENTS_FINGERPRINT_KEY: secret() };
    case 'notifications':
      return { ...common, EMAIL_OUTBOX_DIR: resolve(repoRoot, 'var', 'k8s-replicas-mail') };
  }
}

function migrationFiles(service: ServiceName): string[] {
  const names = (scope: string, dir: string) => readdirSync(dir).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).map((f) => `${scope}/${f}`);
  return [...names('platform', resolve(repoRoot, 'packages/platform/migrations')), ...names(service, resolve(repoRoot, 'services', service, 'migrations'))].sort();
}

async function startReplica(service: ServiceName, env: Record<string, string>): Promise<Replica> {
  const [httpPort, metricsPort] = (await freePorts(2)) as [number, number];
  const child = spawn(process.execPath, [resolve(repoRoot, 'services', service, 'src/main.ts')], {
    env: { ...process.env, ...env, HTTP_PORT: String(httpPort), METRICS_PORT: String(metricsPort), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const replica: Replica = { child, httpPort, output: '' };
  child.stdout!.on('data', (chunk: Buffer) => (replica.output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (replica.output += chunk.toString()));
  return replica;
}

async function waitReady(replica: Replica, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (replica.child.exitCode !== null) throw new Error(`replica exited with ${replica.child.exitCode}:\n${replica.output}`);
    const ready = await fetch(`http://127.0.0.1:${replica.httpPort}/readyz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`replica not ready in time:\n${replica.output}`);
}

async function stopReplica(replica: Replica): Promise<number | null> {
  if (replica.child.exitCode !== null || replica.child.signalCode !== null) return replica.child.exitCode;
  const exited = new Promise<number | null>((done) => replica.child.once('exit', (code) => done(code)));
  replica.child.kill('SIGTERM');
  const killer = setTimeout(() => replica.child.kill('SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(killer);
  return code;
}

/** pino's JSON lines; anything else (a stack printed by Node itself) counts as an error line. */
function logLines(output: string): { level: number; msg?: string; migration?: string }[] {
  return output.split('\n').filter((line) => line.trim() !== '').map((line) => {
    try {
      return JSON.parse(line) as { level: number; msg?: string; migration?: string };
    } catch {
      return { level: 60, msg: line };
    }
  });
}

for (const service of serviceNames) {
  test(`two ${service} replicas starting together on a fresh database both become ready, and each migration is applied once`, { skip, timeout: 120_000 }, async () => {
    const database = `k8s_${service}_${process.pid}_${randomBytes(3).toString('hex')}`;
    const stream = `K8SMIGRATE${process.pid}${randomBytes(3).toString('hex').toUpperCase()}`;
    const databaseUrl = await ensureDatabase(testDatabaseUrl!, database);
    const env = { ...secretEnv(service), DATABASE_URL: databaseUrl, NATS_URL: testNatsUrl!, NATS_STREAM: stream };
    const replicas: Replica[] = [];
    try {
      replicas.push(...(await Promise.all([startReplica(service, env), startReplica(service, env)])));
      const deadline = Date.now() + 90_000;
      await Promise.all(replicas.map((replica) => waitReady(replica, deadline)));

      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      const applied = await client.query<{ name: string }>('select name from schema_migrations order by name').finally(() => client.end());
      assert.deepEqual(applied.rows.map((row) => row.name), migrationFiles(service), 'every migration file is recorded');

      const lines = replicas.map((replica) => logLines(replica.output));
      const appliedBy = lines.flatMap((replicaLines, i) => replicaLines.filter((line) => line.msg === 'migration applied').map((line) => ({ replica: i, migration: line.migration })));
      assert.deepEqual(appliedBy.map((a) => a.migration).sort(), migrationFiles(service), 'each migration was applied by exactly one replica');
      for (const [i, replicaLines] of lines.entries()) {
        const errors = replicaLines.filter((line) => line.level >= 50);
        assert.deepEqual(errors, [], `replica ${i} logged no error`);
      }
      const codes = await Promise.all(replicas.map(stopReplica));
      assert.deepEqual(codes, [0, 0], 'both replicas exit 0 on SIGTERM');
    } finally {
      await Promise.all(replicas.map(stopReplica));
      await dropDatabase(testDatabaseUrl!, database);
      const nats = await connect({ servers: testNatsUrl! });
      await (await jetstreamManager(nats)).streams.delete(stream).catch(() => false);
      await nats.close();
    }
  });
}
