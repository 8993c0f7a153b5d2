// The embedded scenario: `npm start`'s process (node scripts/start.ts: every service in one
// process on PGlite folders) killed with SIGKILL under load and started again on the same data.
// PGlite holds its folder while running, so the audit opens the folders once it has stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePorts } from '@paymesh/app/free-ports';
import { clusterDir } from '@paymesh/app/data-layout';
import { openEmbeddedCluster } from '@paymesh/platform/db/embedded-cluster';
import { createLogger } from '@paymesh/platform/logger';
import { auditScenario } from './audit.ts';
import { driveLoad, scenarioLoad } from './drive-load.ts';
import { signUpPayers, unreadCounts, until } from './payers.ts';
import { errorCauses, type ScenarioReport } from './report.ts';
import { embeddedScenario } from './scenarios.ts';
import type { RunSettings } from './settings.ts';

const startScript = resolve(import.meta.dirname, '../start.ts');

export interface EmbeddedResources {
  child?: ChildProcess;
}

/** Starts `npm start`'s script on the data folder and port, once it prints its ready line. */
function startEmbeddedProcess(settings: RunSettings, port: number, resources: EmbeddedResources): Promise<ChildProcess> {
  const child = spawn(process.execPath, [startScript], {
    env: {
      ...process.env,
      PAYMESH_DATA_ROOT: join(settings.scratch, 'embedded'),
      PAYMESH_PORTS: 'random',
      PAYMESH_READY_LINE: '1',
      PORT: String(port),
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      BOOTSTRAP_ADMIN_PASSWORD: 'faults-admin-password-0123',
      BOOTSTRAP_ADMIN_PASSWORD_FILE: join(settings.scratch, 'embedded-admin.txt'),
      EMAIL_OUTBOX_DIR: join(settings.scratch, 'embedded-mail'),
      DATABASE_URL: undefined, NATS_URL: undefined, AUTH_ISSUER: undefined, PUBLIC_URL: undefined, SERVICE_CLIENTS: undefined,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  resources.child = child;
  const log = createWriteStream(join(settings.scratch, 'embedded.log'), { flags: 'a' });
  child.stderr!.pipe(log, { end: false });
  return new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error('npm start was not ready within 120 s')), 120_000);
    child.once('exit', (code, signal) => { clearTimeout(timer); fail(new Error(`npm start exited before it was ready: ${signal ?? code}`)); });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      log.write(line + '\n');
      if (line.startsWith('{"ready":true')) { clearTimeout(timer); done(child); }
    });
  });
}

function ended(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
}

export async function runEmbedded(settings: RunSettings, resources: EmbeddedResources): Promise<ScenarioReport> {
  const startedAt = Date.now();
  const [port] = await freePorts(1);
  const gatewayUrl = `http://127.0.0.1:${port}`;
  let child = await startEmbeddedProcess(settings, port!, resources);
  const payers = await signUpPayers(gatewayUrl, settings.payers, `${settings.tag}e`);
  const unreadBefore = await unreadCounts(gatewayUrl, payers);
  const failures: string[] = [];
  const exits: string[] = [];
  const driven = await driveLoad(scenarioLoad(settings, embeddedScenario.name, gatewayUrl, payers), async () => {
    child.kill('SIGKILL');
    const killed = await ended(child);
    exits.push(`npm start ${killed.signal ?? `exit ${killed.code}`} (the fault)`);
    child = await startEmbeddedProcess(settings, port!, resources);
  });
  // Settled when every acknowledged payment's notification is in an inbox, bounded.
  await until(async () => {
    const after = await unreadCounts(gatewayUrl, payers);
    const grown = [...after].reduce((sum, [id, n]) => sum + n - (unreadBefore.get(id) ?? 0), 0);
    return grown >= driven.record.acked;
  }, settings.settleTimeoutMs, 500);
  const unreadAfter = await unreadCounts(gatewayUrl, payers);
  // A graceful stop must drain and exit 0; then the folders are free to audit.
  child.kill('SIGTERM');
  const stopped = await ended(child);
  exits.push(`npm start ${stopped.signal ?? `exit ${stopped.code}`} after SIGTERM`);
  if (stopped.code !== 0) failures.push(`npm start ended with ${stopped.signal ?? `exit ${stopped.code}`} after SIGTERM (expected exit 0)`);

  // The audit's own pool loses its connections in the database faults: not worth a log line.
  const logger = createLogger('faults', 'error');
  // The platform's one cluster, each service's schema through its own handle (ADR 29).
  const cluster = await openEmbeddedCluster({ dataDir: clusterDir(join(settings.scratch, 'embedded')), services: { payments: [], notifications: [] }, logger });
  const payments = cluster.database('payments');
  const notifications = cluster.database('notifications');
  try {
    const audit = await auditScenario({
      payments: payments.db,
      notifications: notifications.db,
      // A fresh data folder: everything in it is this scenario's (sign-up messages are not payment notifications).
      baseline: { paymentSeq: '0', notificationId: '0' },
      record: driven.record,
      unreadBefore,
      unreadAfter,
      recoveredAt: driven.recoveredAt,
    });
    if (driven.faultError !== undefined) audit.failures.push(driven.faultError);
    audit.failures.push(...failures);
    return { scenario: embeddedScenario.name, audit, exits, errorCauses: errorCauses(driven.record.errors), seconds: (Date.now() - startedAt) / 1000 };
  } finally {
    await cluster.close();
  }
}
