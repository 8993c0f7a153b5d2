// The distributed scenarios: the platform as one process per service on the runner's own
// PostgreSQL and NATS, a supervisor that starts again whatever exits (as Kubernetes would), the
// load and its fault, then the audit against the services' databases.
import { join } from 'node:path';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';
import { startDistributed, type DistributedPlatform } from '@paymesh/app/start-distributed';
import { ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { openDatabase, queryRows, sql, type Database } from '@paymesh/platform/db/open-database';
import { createLogger } from '@paymesh/platform/logger';
import { auditScenario, readBaseline } from './audit.ts';
import { driveLoad, scenarioLoad } from './drive-load.ts';
import { signUpPayers, unreadCounts, until } from './payers.ts';
import { startNatsServer, type NatsServer } from '@paymesh/app/nats-server';
import { startPostgresCluster, type PostgresCluster } from './postgres-cluster.ts';
import { errorCauses, type ScenarioReport } from './report.ts';
import type { DistributedScenario } from './scenarios.ts';
import type { RunSettings } from './settings.ts';

type ProcessName = ServiceName | 'gateway';

/** Everything the distributed run started, for the clean-up (which may come from Ctrl-C). */
export interface DistributedResources {
  postgres?: PostgresCluster;
  nats?: NatsServer;
  platform?: DistributedPlatform;
  stopping: boolean;
}

export async function runDistributed(settings: RunSettings, scenarios: readonly DistributedScenario[], resources: DistributedResources, report: (r: ScenarioReport) => void): Promise<void> {
  const postgres = resources.postgres = await startPostgresCluster(join(settings.scratch, 'postgres'));
  const nats = resources.nats = await startNatsServer(settings.scratch);
  const databaseUrls = {} as Record<ServiceName, string>;
  for (const name of serviceNames) databaseUrls[name] = await ensureDatabase(postgres.url('postgres'), `paymesh_${name}`);

  // The supervisor: what exits is started again after a second, and each exit is written down
  // for the scenario it happened in, as the fault's (expected) or as a failure.
  let exits: { name: ProcessName; how: string; expected: boolean }[] = [];
  const expected = new Map<ProcessName, 'SIGKILL' | 'SIGTERM'>();
  const restarting = new Set<ProcessName>();
  const restarts = new Map<ProcessName, number>();
  const onExit = (name: ProcessName, code: number | null, signal: NodeJS.Signals | null) => {
    if (resources.stopping) return;
    const how = signal ?? `exit ${code}`;
    const intended = expected.get(name);
    // A SIGTERM must end in a clean exit 0; a SIGKILL ends by the signal.
    const asIntended = (intended === 'SIGKILL' && signal === 'SIGKILL') || (intended === 'SIGTERM' && code === 0);
    expected.delete(name);
    exits.push({ name, how: intended === undefined || how === intended ? how : `${how} after ${intended}`, expected: asIntended });
    restarting.add(name);
    const count = (restarts.get(name) ?? 0) + 1;
    restarts.set(name, count);
    if (count > 50) return; // a crash loop: the scenario's audit shows it; no endless restarts
    setTimeout(() => {
      if (resources.stopping) return;
      resources.platform!.restart(name).then(
        () => restarting.delete(name),
        // If it exited again, this handler runs again and retries; otherwise it is reported below.
        (error: unknown) => process.stderr.write(`  (supervisor: ${name} did not come back: ${String(error)})\n`),
      );
    }, 1_000);
  };
  const platform = resources.platform = await startDistributed({
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      BOOTSTRAP_ADMIN_PASSWORD: 'faults-admin-password-0123',
      BOOTSTRAP_ADMIN_PASSWORD_FILE: join(settings.scratch, 'admin.txt'),
      EMAIL_OUTBOX_DIR: join(settings.scratch, 'mail'),
      PORT: undefined, DATABASE_URL: undefined, NATS_URL: undefined, AUTH_ISSUER: undefined, PUBLIC_URL: undefined, SERVICE_CLIENTS: undefined,
    },
    databaseUrls,
    natsUrl: nats.url,
    natsStream: 'FAULTS',
    ports: 'random',
    logDir: join(settings.scratch, 'logs'),
    onExit,
  });
  const gatewayUrl = platform.gatewayUrl;
  // The audit's own pool loses its connections in the database faults: not worth a log line.
  const logger = createLogger('faults', 'error');
  const open = (name: ServiceName) => openDatabase({ url: databaseUrls[name], dataDir: 'unused', migrations: [], logger, poolSize: 2 });
  const databases: Database[] = [];
  try {
    const paymentsDb = await open('payments');
    databases.push(paymentsDb);
    const notificationsDb = await open('notifications');
    databases.push(notificationsDb);
    const payers = await signUpPayers(gatewayUrl, settings.payers, settings.tag);
    const payersReady = await until(async () => {
      const [row] = await queryRows<{ n: number }>(paymentsDb.db, sql`select count(*)::int as n from payers where user_id::text in ${payers.map((p) => p.id)} and status = 'active'`);
      return row!.n === payers.length;
    }, 60_000);
    if (!payersReady) throw new Error('the payers did not reach the payments service within 60 s');

    const running = (name: ProcessName) => until(async () => !restarting.has(name) && (await fetch(`http://127.0.0.1:${name === 'gateway' ? platform.plan.gateway : platform.plan.http[name]}/readyz`, { signal: AbortSignal.timeout(1_000) })).ok, 120_000);
    for (const scenario of scenarios) {
      const startedAt = Date.now();
      exits = [];
      const baseline = await readBaseline(paymentsDb.db, notificationsDb.db);
      const unreadBefore = await unreadCounts(gatewayUrl, payers);
      const driven = await driveLoad(scenarioLoad(settings, scenario.name, gatewayUrl, payers), () => scenario.inject({
        postgres,
        nats,
        signal(name, signal) {
          expected.set(name, signal);
          platform.processes[name].kill(signal);
        },
        async running(name) {
          if (!(await running(name))) throw new Error(`${name} was not running again within 120 s`);
        },
      }));
      // Every process back before the audit reads anything (a crashed one is a finding, not a stop).
      for (const name of [...serviceNames, 'gateway'] as const) await running(name);
      // The notifications settle: as many payment.succeeded notifications as succeeded payments, bounded.
      await until(async () => {
        const [p] = await queryRows<{ n: number }>(paymentsDb.db, sql`select count(*)::int as n from payments where seq > ${baseline.paymentSeq}::bigint and status = 'succeeded'`);
        const [n] = await queryRows<{ n: number }>(notificationsDb.db, sql`select count(*)::int as n from notifications where id > ${baseline.notificationId}::bigint and type = 'payment.succeeded'`);
        return n!.n >= p!.n;
      }, settings.settleTimeoutMs);
      const audit = await auditScenario({
        payments: paymentsDb.db,
        notifications: notificationsDb.db,
        baseline,
        record: driven.record,
        unreadBefore,
        unreadAfter: await unreadCounts(gatewayUrl, payers),
        recoveredAt: driven.recoveredAt,
      });
      if (driven.faultError !== undefined) audit.failures.push(driven.faultError);
      for (const exit of exits.filter((e) => !e.expected)) audit.failures.push(`${exit.name} ended unasked: ${exit.how}`);
      for (const name of restarting) audit.failures.push(`${name} is not running after the scenario`);
      report({
        scenario: scenario.name,
        audit,
        exits: exits.map((e) => `${e.name} ${e.how}${e.expected ? ' (the fault)' : ''}`),
        errorCauses: errorCauses(driven.record.errors),
        seconds: (Date.now() - startedAt) / 1000,
      });
    }
  } finally {
    for (const database of databases) await database.close().catch(() => {});
  }
}
