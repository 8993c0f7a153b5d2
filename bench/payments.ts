// Payments benchmark, in distributed mode on the machine's PostgreSQL and NATS (127.0.0.1 only).
// Three measurements in one run:
// 1. POST /payments, the contract's body with an Idempotency-Key per request, from 64 concurrent
//    clients spread over 32 users: payments per second and p50/p99 latency, sent straight to the
//    payments service's port, then through the gateway, then (BENCH_UNGROUPED=0 skips it) through
//    the gateway again with the payments service restarted with PAYMENTS_COMMIT_GROUP=1, each
//    payment in its own transaction as before ADR 30. After each load, every succeeded payment
//    must have exactly one inbox notification (the benchmark fails otherwise) and the time from
//    the payment's transaction to its notification's is reported (the event → inbox lag);
// 2. the floor: pgbench running the SQL the service runs for one such payment
//    (bench/payments/payment.sql) at the same concurrency for the same time, on a separate
//    database migrated by the service's own migrations; issue 18's goal: service ≥ 3 × pgbench,
//    ≥ 2,000 payments/s, p99 ≤ 50 ms;
// 3. GET /payments (a user's pages, filtered, and an admin's) at 1,000 and at 1,000,000 payments
//    bulk-loaded into the table: p99(1M) ÷ p99(1k), goal ≤ 1.5, with the plans at 1M.
// Where the two vCPUs went during each load is measured from /proc. Databases are named bench_*
// and dropped at the end. Results are printed as Markdown for docs/benchmarks.md.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';
import { startDistributed, type DistributedPlatform } from '@paymesh/app/start-distributed';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { openDatabase, sql, type Db } from '@paymesh/platform/db/open-database';
import { createLogger } from '@paymesh/platform/logger';
// The payments service exports only its app; the benchmark reaches the modules themselves.
import { checkLedgerInvariants } from '../services/payments/src/ledger/check-invariants.ts';
import { listPayments } from '../services/payments/src/payments/list-payments.ts';
import { deleteStreams } from '@paymesh/platform/events/delete-streams';
import { closeHttpClient, send, sendJson } from './http-client.ts';
import { machineBusyTicks, procTicks, ticksPerSecond } from './proc-cpu.ts';

const root = resolve(import.meta.dirname, '..');
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const clients = Number(process.env.BENCH_CLIENTS ?? 64);
const userCount = Number(process.env.BENCH_USERS ?? 32);
const viaGateway = process.env.BENCH_GATEWAY !== '0';
const compareUngrouped = process.env.BENCH_UNGROUPED !== '0';
const listRuns = Number(process.env.BENCH_LIST_RUNS ?? 2000);
const listSizes = [1_000, Number(process.env.BENCH_LIST_ROWS ?? 1_000_000)];
const pgbenchThreads = 2;
const listRounds = 10;

for (const url of [adminUrl, natsUrl]) {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`the benchmark only targets 127.0.0.1, not ${url}`);
}

// ---- helpers -------------------------------------------------------------------------------------

/** Nearest-rank percentile. */
const percentile = (xs: readonly number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};
const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const sleep = (millis: number) => new Promise((r) => setTimeout(r, millis));

/** pgbench, or the client package that brings it (the machine's own files install what the project needs). */
function ensurePgbench(): string {
  const found = () => ['/usr/bin/pgbench', '/usr/lib/postgresql/15/bin/pgbench'].find((p) => existsSync(p));
  if (found() !== undefined) return found()!;
  console.error('pgbench is missing: apt-get install -y postgresql-client');
  const install = () => execFileSync('apt-get', ['install', '-y', 'postgresql-client'], { stdio: 'inherit', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', timeout: 300_000 });
    install();
  }
  const path = found();
  if (path === undefined) throw new Error('pgbench still missing after installing postgresql-client');
  return path;
}


// CPU by process group (proc-cpu.ts). A PostgreSQL backend that exits (pgbench's, at its end) is
// counted through the postmaster's cutime/cstime.
type CpuGroups = Record<string, number>;
function cpuSnapshot(platform: DistributedPlatform | undefined): { at: number; machineBusy: number; groups: CpuGroups } {
  const groups: CpuGroups = { 'bench client (this process, and pgbench once it exited)': 0, 'payments service': 0, gateway: 0, 'auth, users, notifications': 0, 'PostgreSQL (every backend)': 0, 'NATS server': 0 };
  const self = procTicks('self')!;
  groups['bench client (this process, and pgbench once it exited)'] = self.self + self.children;
  const ours = new Map<number, string>();
  if (platform !== undefined) {
    for (const [name, child] of Object.entries(platform.processes)) {
      if (child.pid === undefined) continue;
      ours.set(child.pid, name === 'payments' ? 'payments service' : name === 'gateway' ? 'gateway' : 'auth, users, notifications');
    }
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procTicks(pid);
    if (stat === undefined) continue;
    const group = ours.get(pid);
    if (group !== undefined) groups[group]! += stat.self;
    else if (stat.comm === 'postgres') groups['PostgreSQL (every backend)']! += stat.self + (procTicks(stat.ppid)?.comm === 'postgres' ? 0 : stat.children);
    else if (stat.comm === 'nats-server') groups['NATS server']! += stat.self;
  }
  return { at: performance.now(), machineBusy: machineBusyTicks(), groups };
}
/** Cores used by each group between two snapshots; "other" is what the machine did besides. */
function cpuBetween(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>): { name: string; cores: number }[] {
  const wallSec = (b.at - a.at) / 1000;
  const rows = Object.keys(b.groups).map((name) => ({ name, cores: (b.groups[name]! - (a.groups[name] ?? 0)) / ticksPerSecond / wallSec }));
  const busy = (b.machineBusy - a.machineBusy) / ticksPerSecond / wallSec;
  const accounted = rows.reduce((s, r) => s + r.cores, 0);
  return [...rows, { name: 'anything else on the machine', cores: Math.max(0, busy - accounted) }, { name: 'machine total (of 2 vCPUs)', cores: busy }];
}

/**
 * What the database's connections are doing, sampled every 100 ms while a load runs: the average
 * number of connections in each state. A transaction "idle in transaction" is waiting for its
 * client (for the service: its Node process) while it may hold the ledger accounts' row locks.
 */
function sampleConnections(database: string): { stop: () => Promise<{ state: string; connections: number }[]> } {
  const client = new pg.Client({ connectionString: adminUrl });
  const counts = new Map<string, number>();
  let samples = 0;
  let stopped = false;
  const classify = (r: { state: string | null; wait_event_type: string | null; wait_event: string | null }) => {
    if (r.state === 'idle in transaction') return 'idle in transaction (waiting for the client)';
    if (r.state !== 'active') return 'idle (between transactions)';
    if (r.wait_event_type === 'Lock') return `waiting for a lock (${r.wait_event})`;
    if (r.wait_event?.startsWith('WAL') === true) return `committing (${r.wait_event})`;
    return 'running a statement';
  };
  const running = (async () => {
    await client.connect();
    for (let i = 0; i < 10_000 && !stopped; i++) {
      const { rows } = await client.query<{ state: string | null; wait_event_type: string | null; wait_event: string | null }>(
        'select state, wait_event_type, wait_event from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
      for (const row of rows) counts.set(classify(row), (counts.get(classify(row)) ?? 0) + 1);
      samples++;
      await sleep(100);
    }
    await client.end();
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return [...counts].map(([state, n]) => ({ state, connections: n / Math.max(1, samples) })).sort((a, b) => b.connections - a.connections);
    },
  };
}

// ---- the run --------------------------------------------------------------------------------------

const pgbench = ensurePgbench();
const suffix = randomBytes(3).toString('hex');
const databaseName = (name: string) => `bench_${suffix}_${name}`;
const created: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'paymesh-bench-payments-'));
const stream = `BENCH${suffix.toUpperCase()}`;
const logger = createLogger('bench', 'warn');
const adminPassword = 'bench-admin-password-0123';
const out = (line = '') => console.log(line);

const pgAdmin = new pg.Client({ connectionString: adminUrl });
await pgAdmin.connect();
const serverVersion = (await pgAdmin.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
await pgAdmin.end();
const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'cpu';
const nproc = execFileSync('nproc').toString().trim();
const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');

let platform: DistributedPlatform | undefined;
let cleaning: Promise<void> | undefined;
const cleanUp = () => (cleaning ??= (async () => {
  await platform?.stop().catch((error: unknown) => console.error('stopping the platform failed:', error));
  for (const name of created) await dropDatabase(adminUrl, name).catch((error: unknown) => console.error(`dropping ${name} failed:`, error));
  await deleteStreams(natsUrl, [stream]).catch((error: unknown) => console.error(`deleting stream ${stream} failed:`, error));
  closeHttpClient();
  rmSync(scratch, { recursive: true, force: true });
})());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

async function createDatabase(name: string): Promise<string> {
  created.push(databaseName(name));
  return ensureDatabase(adminUrl, databaseName(name));
}

try {
  // ---- the platform, distributed ----------------------------------------------------------------
  const databaseUrls = {} as Record<ServiceName, string>;
  for (const name of serviceNames) databaseUrls[name] = await createDatabase(name);
  platform = await startDistributed({
    env: {
      ...process.env,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
      BOOTSTRAP_ADMIN_PASSWORD_FILE: join(scratch, 'admin.txt'),
      EMAIL_OUTBOX_DIR: join(scratch, 'mail'), // each payment's receipt email is written here
      // Every user of the benchmark signs up and logs in from 127.0.0.1: more than one address's hourly allowance.
      USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR: '1000000', USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR: '1000000',
      PORT: undefined, DATABASE_URL: undefined, NATS_URL: undefined, AUTH_ISSUER: undefined, PUBLIC_URL: undefined, SERVICE_CLIENTS: undefined,
    },
    databaseUrls,
    natsUrl,
    natsStream: stream,
    ports: 'random',
    logDir: join(scratch, 'logs'),
  });
  const gatewayUrl = platform.gatewayUrl;
  const paymentsUrl = `http://127.0.0.1:${platform.plan.http.payments}`;
  const paymentsDb = new pg.Pool({ connectionString: databaseUrls.payments, max: 2 });
  const notificationsDb = new pg.Pool({ connectionString: databaseUrls.notifications, max: 2 });
  notificationsDb.on('error', () => undefined);
  // A failed run drops its databases (cleanUp) while this pool may still hold a connection: its
  // termination must not crash the process and hide the error that ended the run.
  paymentsDb.on('error', () => undefined);

  // Users, each with a token and a payers row (from user.registered) before anything is timed.
  const payers: { id: number; token: string }[] = [];
  for (let i = 0; i < userCount; i++) {
    const username = `bench${suffix}u${i}`;
    const password = `bench-password-${suffix}-${i}`;
    const signedUp = await sendJson(gatewayUrl, 'POST', '/users', { json: { username, email: `${username}@example.com`, password } });
    if (signedUp.status !== 202) throw new Error(`sign-up failed: ${signedUp.status} ${JSON.stringify(signedUp.body)}`);
    const login = await sendJson(gatewayUrl, 'POST', '/auth/login', { json: { username, password } });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    const id = Number((await sendJson(gatewayUrl, 'GET', '/users/me', { token: login.body.token })).body.id);
    payers.push({ id, token: login.body.token });
  }
  const adminLogin = await sendJson(gatewayUrl, 'POST', '/auth/login', { json: { username: 'admin', password: adminPassword } });
  if (adminLogin.status !== 200) throw new Error(`admin login failed: ${adminLogin.status}`);
  const adminToken = adminLogin.body.token as string;
  for (let attempt = 0; ; attempt++) {
    const { rows } = await paymentsDb.query<{ n: string }>(`select count(*) as n from payers where user_id = any($1) and status = 'active'`, [payers.map((p) => p.id)]);
    if (Number(rows[0]!.n) === payers.length) break;
    if (attempt > 300) throw new Error('payers rows did not arrive within 30 s');
    await sleep(100);
  }

  // ---- 1. POST /payments under load ---------------------------------------------------------------
  interface LoadResult { window: { from: string; to: string }; latenciesMs: number[]; failures: Map<string, number>; wallSec: number; cpu: { name: string; cores: number }[]; connections: { state: string; connections: number }[]; eventsWritten: number; eventsPublished: number }
  const outboxCounts = async () => {
    const { rows } = await paymentsDb.query<{ written: string; published: string }>('select count(*) as written, count(published_at) as published from outbox');
    return { written: Number(rows[0]!.written), published: Number(rows[0]!.published) };
  };
  async function paymentLoad(base: string, durationSec: number): Promise<LoadResult> {
    const latenciesMs: number[] = [];
    const failures = new Map<string, number>();
    const sampler = sampleConnections(databaseName('payments'));
    const outboxBefore = await outboxCounts();
    const cpuBefore = cpuSnapshot(platform);
    const from = (await paymentsDb.query<{ now: string }>('select now()::text as now')).rows[0]!.now;
    const startedAt = performance.now();
    const endAt = startedAt + durationSec * 1000;
    await Promise.all(Array.from({ length: clients }, async (_, client) => {
      const payer = payers[client % payers.length]!;
      const headers = { authorization: `Bearer ${payer.token}` };
      const body = `{"amount": 12.34, "user_id": ${payer.id}}`;
      for (let n = 0; n < 1_000_000 && performance.now() < endAt; n++) {
        const sentAt = performance.now();
        try {
          const response = await send(base, 'POST', '/payments', { ...headers, 'idempotency-key': randomUUID() }, body);
          if (response.status === 200) {
            latenciesMs.push(performance.now() - sentAt);
          } else {
            failures.set(String(response.status), (failures.get(String(response.status)) ?? 0) + 1);
          }
        } catch (error) {
          const key = error instanceof Error ? error.message.slice(0, 60) : 'error';
          failures.set(key, (failures.get(key) ?? 0) + 1);
        }
      }
    }));
    const wallSec = (performance.now() - startedAt) / 1000;
    const cpu = cpuBetween(cpuBefore, cpuSnapshot(platform));
    const to = (await paymentsDb.query<{ now: string }>('select now()::text as now')).rows[0]!.now;
    const outboxAfter = await outboxCounts();
    return {
      window: { from, to }, latenciesMs, failures, wallSec, cpu, connections: await sampler.stop(),
      eventsWritten: outboxAfter.written - outboxBefore.written,
      eventsPublished: outboxAfter.published - outboxBefore.published,
    };
  }
  /** Waits until the relay has published every event (it must not compete with what comes next). */
  async function outboxDrained(): Promise<{ backlog: number; drainSec: number }> {
    const startedAt = performance.now();
    let backlog = -1;
    for (let attempt = 0; attempt < 1200; attempt++) {
      const { rows } = await paymentsDb.query<{ n: string }>('select count(*) as n from outbox where published_at is null');
      if (backlog < 0) backlog = Number(rows[0]!.n);
      if (Number(rows[0]!.n) === 0) return { backlog, drainSec: (performance.now() - startedAt) / 1000 };
      await sleep(100);
    }
    throw new Error('the outbox did not drain within 120 s');
  }

  /**
   * Each payment that succeeded in `window` has exactly one inbox notification (payment.succeeded),
   * waited for at most 120 s after the load: the time from the payment's transaction to its
   * notification's (both the database's now(), one clock), and how long the last took to arrive.
   * Fails loudly on a payment with none or with two.
   */
  async function inboxFollowed(window: { from: string; to: string }): Promise<{ lagsMs: number[]; caughtUpSec: number }> {
    const { rows: paid } = await paymentsDb.query<{ id: string; at: number }>(
      `select id, extract(epoch from created_at) * 1000 as at from payments where status = 'succeeded' and created_at >= $1 and created_at <= $2`, [window.from, window.to]);
    const ids = paid.map((p) => p.id);
    const startedAt = performance.now();
    let notified: { payment_id: string; n: string; at: number }[] = [];
    for (let attempt = 0; attempt < 1200; attempt++) {
      ({ rows: notified } = await notificationsDb.query<{ payment_id: string; n: string; at: number }>(
        `select data->>'payment_id' as payment_id, count(*) as n, extract(epoch from min(sent_at)) * 1000 as at from notifications
         where type = 'payment.succeeded' and data->>'payment_id' = any($1) group by 1`, [ids]));
      if (notified.length === ids.length) break;
      await sleep(100);
    }
    const caughtUpSec = (performance.now() - startedAt) / 1000;
    const twice = notified.filter((n) => Number(n.n) !== 1);
    if (twice.length > 0) throw new Error(`${twice.length} payments have more than one notification, e.g. ${twice[0]!.payment_id}`);
    if (notified.length !== ids.length) throw new Error(`${ids.length - notified.length} of ${ids.length} succeeded payments have no notification 120 s after the load`);
    const at = new Map(notified.map((n) => [n.payment_id, Number(n.at)]));
    return { lagsMs: paid.map((p) => at.get(p.id)! - Number(p.at)), caughtUpSec };
  }

  const runs: { label: string; result: LoadResult; outbox: { backlog: number; drainSec: number }; inbox: { lagsMs: number[]; caughtUpSec: number } }[] = [];
  const targets: [string, string, (() => Promise<void>)?][] = [['straight to the payments service', paymentsUrl]];
  if (viaGateway) targets.push(['through the gateway', gatewayUrl]);
  // The same through the gateway with each payment in its own transaction, as before ADR 30: the
  // payments service restarted with PAYMENTS_COMMIT_GROUP=1.
  if (viaGateway && compareUngrouped) {
    targets.push(['through the gateway, each payment its own transaction (PAYMENTS_COMMIT_GROUP=1)', gatewayUrl, async () => {
      const running = platform!.processes.payments;
      await new Promise<void>((done) => {
        running.once('exit', () => done());
        running.kill('SIGTERM');
      });
      await platform!.restart('payments', 60_000, { PAYMENTS_COMMIT_GROUP: '1' });
    }]);
  }
  for (const [label, base, before] of targets) {
    await before?.();
    await paymentLoad(base, warmupSeconds); // JIT, pools, caches
    await outboxDrained();
    const result = await paymentLoad(base, seconds);
    const outbox = await outboxDrained();
    runs.push({ label, result, outbox, inbox: await inboxFollowed(result.window) });
  }
  // Every succeeded payment of the run, warm-ups included, has exactly one notification.
  {
    const { rows: paid } = await paymentsDb.query<{ id: string }>(`select id from payments where status = 'succeeded'`);
    const { rows: notified } = await notificationsDb.query<{ payment_id: string; n: string }>(
      `select data->>'payment_id' as payment_id, count(*) as n from notifications where type = 'payment.succeeded' group by 1`);
    const once = new Set(notified.filter((n) => Number(n.n) === 1).map((n) => n.payment_id));
    const paidIds = new Set(paid.map((p) => p.id));
    const wrong = paid.filter((p) => !once.has(p.id)).length + notified.filter((n) => !paidIds.has(n.payment_id)).length;
    if (wrong > 0 || once.size !== paid.length) throw new Error(`${wrong} succeeded payments without exactly one notification (or notifications of no such payment)`);
  }
  const { rows: [counted] } = await paymentsDb.query<{ payments: string; keys: string }>(
    `select (select count(*) from payments) as payments, (select count(*) from idempotency_keys where state = 'done') as keys`);
  const paymentsDatabase = await openDatabase({ url: databaseUrls.payments, dataDir: 'unused', migrations: [], logger });
  const violations = await checkLedgerInvariants(paymentsDatabase.db);
  if (violations.length > 0) throw new Error(`ledger invariants violated after the load: ${JSON.stringify(violations.slice(0, 3))}`);

  // ---- 2. pgbench on the same SQL ---------------------------------------------------------------
  // The values the service sent for one of its payments, so the pgbench rows weigh the same.
  const sampled = (await paymentsDb.query<{ id: string; card: string }>(`select id, payment_method::text as card from payments where status = 'succeeded' limit 1`)).rows[0];
  const sampledEvent = (await paymentsDb.query<{ event: string; request_id: string }>(`select payload::text as event, request_id from outbox where payload->>'payment_id' = $1 limit 1`, [sampled?.id])).rows[0];
  const sampledKey = (await paymentsDb.query<{ response: string; fingerprint: string }>(`select response_body as response, request_fingerprint as fingerprint from idempotency_keys where response_body like $1 limit 1`, [`%"${sampled?.id}"%`])).rows[0];
  if (sampled === undefined || sampledEvent === undefined || sampledKey === undefined) throw new Error('no payment to take the pgbench values from');
  const sample = { card: sampled.card, ...sampledEvent, ...sampledKey };

  const pgbenchUrl = await createDatabase('pgbench');
  // The service's migration runner, in its order: the platform's migrations, then the service's.
  const floorDatabase = await openDatabase({
    url: pgbenchUrl,
    dataDir: 'unused',
    migrations: [{ scope: 'platform', dir: join(root, 'packages/platform/migrations') }, { scope: 'payments', dir: join(root, 'services/payments/migrations') }],
    logger,
  });
  await floorDatabase.close();
  const floorClient = new pg.Client({ connectionString: pgbenchUrl });
  await floorClient.connect();
  const accountIds = (await floorClient.query<{ id: string }>(`insert into ledger_accounts (code, currency) values ('system:processor_clearing:USD', 'USD'), ('system:platform_revenue:USD', 'USD') returning id`)).rows.map((r) => r.id);
  await floorClient.query(`insert into payers (user_id, status, as_of) select g, 'active', now() from generate_series(1, $1::int) g`, [userCount]);
  await floorClient.end();

  interface PgbenchResult { tps: number; transactions: number; failed: number; latenciesMs: number[]; statements: { ms: number; text: string }[]; cpu: { name: string; cores: number }[]; connections: { state: string; connections: number }[] }
  async function runPgbench(durationSec: number, logPrefix: string | undefined): Promise<PgbenchResult> {
    const url = new URL(pgbenchUrl);
    const variables = { users: String(userCount), debit: accountIds[0]!, credit: accountIds[1]!, amount: '1234', currency: 'USD', posted: 'true', pending: 'false', ...sample };
    const args = [
      '-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username) || 'postgres',
      '-n', '-M', 'extended', '-c', String(clients), '-j', String(pgbenchThreads), '-T', String(durationSec), '-r',
      ...(logPrefix === undefined ? [] : ['-l', '--log-prefix', logPrefix]),
      '-f', join(root, 'bench/payments/payment.sql'),
      ...Object.entries(variables).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
      url.pathname.slice(1),
    ];
    const sampler = sampleConnections(databaseName('pgbench'));
    const cpuBefore = cpuSnapshot(platform);
    const output = await new Promise<string>((resolvePromise, reject) => {
      const child = spawn(pgbench, args, { env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), (durationSec + 60) * 1000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolvePromise(text);
        else reject(new Error(`pgbench exited with ${code}:\n${text}`));
      });
    });
    const cpu = cpuBetween(cpuBefore, cpuSnapshot(platform));
    const connections = await sampler.stop();
    const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? Number.NaN);
    const statementsAt = output.indexOf('statement latencies');
    const statements = statementsAt < 0 ? [] : output.slice(statementsAt).split('\n').slice(1)
      .map((line) => /^\s+([\d.]+)\s+\d+\s+(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ ms: Number(m[1]), text: m[2]!.trim() }));
    const latenciesMs: number[] = [];
    if (logPrefix !== undefined) {
      const dir = resolve(logPrefix, '..');
      const base = logPrefix.slice(dir.length + 1);
      for (const file of readdirSync(dir).filter((f) => f.startsWith(`${base}.`))) {
        for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
          const fields = line.split(' ');
          if (fields.length >= 3) latenciesMs.push(Number(fields[2]) / 1000);
        }
      }
    }
    return {
      tps: number(/tps = ([\d.]+) \(without initial connection time\)/),
      transactions: number(/number of transactions actually processed: (\d+)/),
      failed: number(/number of failed transactions: (\d+)/),
      latenciesMs,
      statements,
      cpu,
      connections,
    };
  }
  await runPgbench(warmupSeconds, undefined);
  const floor = await runPgbench(seconds, join(scratch, 'pgbench'));
  // Its database's autovacuum must not run beside the listing measurements.
  await dropDatabase(adminUrl, databaseName('pgbench'));

  // ---- 3. GET /payments at 1,000 and 1,000,000 payments --------------------------------------------
  // Rows as the service writes them: one in five with a status other than succeeded, a card
  // snapshot, an authorization, the error of a declined attempt; created over the past year in
  // seq order; spread round-robin over the benchmark's users (at 1M each has 31,250 payments, so a
  // user's filters must be served by an index, not by reading that user's rows).
  const loadSql = `
    insert into payments (id, user_id, amount_minor, currency, status, description, created_by, capture_method, payment_method_type,
      payment_method, processor_authorization, amount_capturable, amount_received, last_payment_error, cancellation_reason, canceled_at,
      created_at, updated_at)
    select 'pay_' || substr(md5($2::text || g), 1, 16), u, amount, 'USD', status, case when g % 5 = 0 then 'Order #' || g end, 'user:' || u,
      case when status = 'requires_capture' then 'manual' else 'automatic' end,
      case when status = 'requires_payment_method' then null else 'card' end,
      case when status = 'requires_payment_method' then null else $3::jsonb end,
      case when status in ('succeeded', 'requires_capture') then 'auth_test_' || md5($2::text || g || 'a') end,
      case when status = 'requires_capture' then amount else 0 end,
      case when status = 'succeeded' then amount else 0 end,
      case when status = 'requires_payment_method' then $4::jsonb end,
      case when status = 'canceled' then 'requested_by_customer' end,
      case when status = 'canceled' then created_at + interval '1 hour' end,
      created_at, created_at
    from (
      select g, ($5::bigint[])[1 + g % cardinality($5::bigint[])] as u, (100 + floor(random() * 99900))::bigint as amount,
        now() - interval '365 days' + (g::double precision / $1::int) * interval '365 days' as created_at,
        (array['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded',
          'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'requires_payment_method', 'requires_payment_method',
          'canceled', 'requires_capture', 'succeeded'])[1 + floor(random() * 20)::int] as status
      from generate_series(1, $1::int) g) rows
    order by g`;
  const declined = JSON.stringify({ type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.', payment_method: JSON.parse(sample.card) });
  const listingUser = payers[0]!;
  const nowSec = Math.floor(Date.now() / 1000);
  const createdRange = { gte: nowSec - 270 * 86_400, lte: nowSec - 90 * 86_400 };
  interface ListCase { label: string; token: string; path: string; filters: Parameters<typeof listPayments>[1] }
  const userFilters = { userId: String(listingUser.id), status: undefined, createdGte: undefined, createdLte: undefined, limit: 10, startingAfter: undefined };
  const adminFilters = { ...userFilters, userId: undefined };
  const listCases = (userCursor: string, adminCursor: string): ListCase[] => [
    { label: "a user's first page", token: listingUser.token, path: '/payments?limit=10', filters: userFilters },
    { label: "a user's first page, status=succeeded", token: listingUser.token, path: '/payments?limit=10&status=succeeded', filters: { ...userFilters, status: 'succeeded' } },
    { label: "a user's first page, created in a 180-day range", token: listingUser.token, path: `/payments?limit=10&created%5Bgte%5D=${createdRange.gte}&created%5Blte%5D=${createdRange.lte}`, filters: { ...userFilters, createdGte: createdRange.gte, createdLte: createdRange.lte } },
    { label: "a user's second page (starting_after)", token: listingUser.token, path: `/payments?limit=10&starting_after=${userCursor}`, filters: { ...userFilters, startingAfter: userCursor } },
    { label: "an admin's first page, unfiltered", token: adminToken, path: '/payments?limit=10', filters: adminFilters },
    { label: "an admin's second page (starting_after)", token: adminToken, path: `/payments?limit=10&starting_after=${adminCursor}`, filters: { ...adminFilters, startingAfter: adminCursor } },
  ];
  const listing: { rows: number; loadSec: number; vacuumSec: number; tableMb: number; cpu: { name: string; cores: number }[]; cases: { label: string; latenciesMs: number[] }[]; plans: { label: string; plan: string }[] }[] = [];
  const loader = new pg.Client({ connectionString: databaseUrls.payments });
  await loader.connect();
  try {
    await loader.query(`set statement_timeout = '300s'`);
    for (const rows of listSizes) {
      await loader.query('truncate refunds, payments');
      let startedAt = performance.now();
      await loader.query(loadSql, [rows, suffix, sample.card, declined, payers.map((p) => p.id)]);
      const loadSec = (performance.now() - startedAt) / 1000;
      startedAt = performance.now();
      await loader.query('vacuum (analyze) payments');
      // The load's dirty pages written now, not by the checkpointer while requests are timed.
      await loader.query('checkpoint');
      const vacuumSec = (performance.now() - startedAt) / 1000;
      const tableMb = Number((await loader.query<{ b: string }>(`select pg_total_relation_size('payments') as b`)).rows[0]!.b) / 2 ** 20;
      const firstPage = async (token: string) => {
        const page = await sendJson(paymentsUrl, 'GET', '/payments?limit=10', { token });
        if (page.status !== 200 || page.body.data.length !== 10) throw new Error(`GET /payments: ${page.status} ${JSON.stringify(page.body).slice(0, 200)}`);
        return page.body.data[9].id as string;
      };
      const cases = listCases(await firstPage(listingUser.token), await firstPage(adminToken));
      for (const c of cases) {
        for (let i = 0; i < 200; i++) { // warm-up; also checks every case answers a full page
          const page = await sendJson(paymentsUrl, 'GET', c.path, { token: c.token });
          if (page.status !== 200 || page.body.data.length !== 10) throw new Error(`${c.label}: ${page.status} ${JSON.stringify(page.body).slice(0, 200)}`);
        }
      }
      // Interleaved rounds, so that whatever else the machine does lands on every case alike.
      const latencies = cases.map(() => [] as number[]);
      const cpuBefore = cpuSnapshot(platform);
      for (let round = 0; round < listRounds; round++) {
        for (const [index, c] of cases.entries()) {
          const headers = { authorization: `Bearer ${c.token}` };
          const path = c.path;
          for (let i = 0; i < listRuns / listRounds; i++) {
            const sentAt = performance.now();
            const response = await send(paymentsUrl, 'GET', path, headers);
            latencies[index]!.push(performance.now() - sentAt);
            if (response.status !== 200) throw new Error(`${c.label}: ${response.status}`);
          }
        }
      }
      const cpu = cpuBetween(cpuBefore, cpuSnapshot(platform));
      // The plans of the queries the service's own listPayments builds, run under EXPLAIN ANALYZE.
      const plans: { label: string; plan: string }[] = [];
      for (const c of cases) {
        const explained: string[] = [];
        const real = paymentsDatabase.db;
        const explaining = {
          async execute(query: Parameters<Db['execute']>[0]) {
            const plan = (await real.execute(sql`explain (analyze, buffers, costs off) ${query}`)) as unknown as { rows: { 'QUERY PLAN': string }[] };
            explained.push(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
            return real.execute(query);
          },
        } as unknown as Db;
        await listPayments(explaining, c.filters);
        plans.push({ label: c.label, plan: explained.join('\n--\n') });
      }
      listing.push({ rows, loadSec, vacuumSec, tableMb, cpu, cases: cases.map((c, i) => ({ label: c.label, latenciesMs: latencies[i]! })), plans });
    }
  } finally {
    await loader.end();
  }
  await paymentsDatabase.close();
  await paymentsDb.end();
  await notificationsDb.end();

  // ---- report -------------------------------------------------------------------------------------
  const gib = Math.round(totalmem() / 2 ** 30);
  out(`Machine: ${nproc} vCPU (nproc) × ${cpuModel}, ${gib} GiB; PostgreSQL ${serverVersion}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; load average at start ${loadAtStart}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  out();
  out(`POST /payments: ${clients} concurrent clients over ${payers.length} users, ${warmupSeconds} s warm-up then ${seconds} s measured; pgbench: \`-M extended -c ${clients} -j ${pgbenchThreads} -T ${seconds}\` after a ${warmupSeconds} s warm-up.`);
  out();
  out('| what | payments/s | p50 (ms) | p99 (ms) | failed |');
  out('|---|---|---|---|---|');
  const direct = runs[0]!.result;
  const throughput = (r: LoadResult) => r.latenciesMs.length / r.wallSec;
  for (const { label, result } of runs) {
    const failed = [...result.failures].map(([k, v]) => `${v} × ${k}`).join(', ') || '0';
    out(`| \`POST /payments\` ${label} | ${throughput(result).toFixed(0)} | ${ms(percentile(result.latenciesMs, 50))} | ${ms(percentile(result.latenciesMs, 99))} | ${failed} |`);
  }
  out(`| floor: pgbench, the same SQL (bench/payments/payment.sql) | ${floor.tps.toFixed(0)} | ${ms(percentile(floor.latenciesMs, 50))} | ${ms(percentile(floor.latenciesMs, 99))} | ${floor.failed} |`);
  out();
  out(`Service ÷ pgbench: ${runs.map((r) => `${(throughput(r.result) / floor.tps).toFixed(2)} ${r.label}`).join('; ')} (issue 18's goal ≥ 3, with ≥ 2,000 payments/s and p99 ≤ 50 ms).`);
  out(`Outbox relay: ${runs.map((r) => `${(r.result.eventsWritten / r.result.wallSec).toFixed(0)} events/s written and ${(r.result.eventsPublished / r.result.wallSec).toFixed(0)}/s published during the load ${r.label}, ${r.outbox.backlog} waiting when it stopped (published in the next ${r.outbox.drainSec.toFixed(1)} s)`).join('; ')}.`);
  out(`Ledger invariants hold; ${counted!.payments} payments and ${counted!.keys} stored idempotent responses in the service's database; every succeeded payment has exactly one inbox notification.`);
  out(`Event → inbox (a succeeded payment's transaction to its payment.succeeded notification's, the database's clock; goal p99 ≤ 1 s): ${runs.map((r) => `${r.label}: p50 ${ms(percentile(r.inbox.lagsMs, 50))} ms, p99 ${ms(percentile(r.inbox.lagsMs, 99))} ms, max ${ms(Math.max(...r.inbox.lagsMs))} ms (${r.inbox.lagsMs.length} payments; all there ${r.inbox.caughtUpSec.toFixed(1)} s after the relay had published the last event)`).join('; ')}.`);
  out();
  out('Where the CPU went during each measured load, in cores (from /proc):');
  out();
  const cpuLabels = direct.cpu.map((r) => r.name);
  const cpuColumns = [...runs.map((r) => ({ label: r.label, cpu: r.result.cpu })), { label: 'pgbench', cpu: floor.cpu }];
  out(`| process | ${cpuColumns.map((c) => c.label).join(' | ')} |`);
  out(`|---|${cpuColumns.map(() => '---|').join('')}`);
  for (const name of cpuLabels) out(`| ${name} | ${cpuColumns.map((c) => (c.cpu.find((r) => r.name === name)?.cores ?? 0).toFixed(2)).join(' | ')} |`);
  out();
  out('What the database connections were doing (average number of connections in each state, sampled every 100 ms from pg_stat_activity):');
  out();
  const states = [...new Set([...runs.flatMap((r) => r.result.connections), ...floor.connections].map((c) => c.state))];
  const connectionColumns = [...runs.map((r) => ({ label: r.label, connections: r.result.connections })), { label: 'pgbench', connections: floor.connections }];
  out(`| state | ${connectionColumns.map((c) => c.label).join(' | ')} |`);
  out(`|---|${connectionColumns.map(() => '---|').join('')}`);
  for (const state of states) out(`| ${state} | ${connectionColumns.map((c) => (c.connections.find((x) => x.state === state)?.connections ?? 0).toFixed(1)).join(' | ')} |`);
  out();
  out(`pgbench, mean latency per statement (ms), ${floor.transactions} transactions:`);
  out();
  out('| ms | statement |');
  out('|---|---|');
  for (const s of floor.statements) out(`| ${s.ms.toFixed(3)} | \`${s.text.replace(/\|/g, '\\|').slice(0, 90)}\` |`);
  out();
  out(`GET /payments, limit 10, straight to the payments service, one request at a time: ${listRuns} requests per case, in ${listRounds} interleaved rounds, after 200 warm-up requests each. The table is truncated, bulk-loaded with one insert … select, then vacuumed, analyzed and checkpointed.`);
  out();
  out(`| case | ${listing.map((l) => `p50 @ ${l.rows.toLocaleString('en-US')} | p99 @ ${l.rows.toLocaleString('en-US')}`).join(' | ')} | p99 ratio |`);
  out(`|---|${listing.map(() => '---|---|').join('')}---|`);
  for (const [index, c] of listing[0]!.cases.entries()) {
    const p99s = listing.map((l) => percentile(l.cases[index]!.latenciesMs, 99));
    out(`| ${c.label} | ${listing.map((l) => `${ms(percentile(l.cases[index]!.latenciesMs, 50))} | ${ms(percentile(l.cases[index]!.latenciesMs, 99))}`).join(' | ')} | ${(p99s[p99s.length - 1]! / p99s[0]!).toFixed(2)} |`);
  }
  out();
  const all = (l: (typeof listing)[number]) => l.cases.flatMap((c) => c.latenciesMs);
  out(`All cases together: p99 ${listing.map((l) => `${ms(percentile(all(l), 99))} ms at ${l.rows.toLocaleString('en-US')}`).join(', ')}; ratio ${(percentile(all(listing.at(-1)!), 99) / percentile(all(listing[0]!), 99)).toFixed(2)} (goal ≤ 1.5). Loads: ${listing.map((l) => `${l.rows.toLocaleString('en-US')} rows in ${l.loadSec.toFixed(1)} s + vacuum, analyze and checkpoint ${l.vacuumSec.toFixed(1)} s (${l.tableMb.toFixed(0)} MB with indexes)`).join('; ')}.`);
  out(`CPU while the listings were timed (cores): ${listing.map((l) => `at ${l.rows.toLocaleString('en-US')}: ${l.cpu.filter((r) => r.cores >= 0.01).map((r) => `${r.name} ${r.cores.toFixed(2)}`).join(', ')}`).join('; ')}.`);
  out();
  out(`Plans at ${listing.at(-1)!.rows.toLocaleString('en-US')} rows (EXPLAIN (ANALYZE, BUFFERS) of the SQL the service's listPayments builds):`);
  for (const { label, plan } of listing.at(-1)!.plans) {
    out();
    out(`${label}:`);
    out('```');
    out(plan);
    out('```');
  }
} finally {
  await cleanUp();
}
