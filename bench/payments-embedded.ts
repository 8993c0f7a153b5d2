// Payments benchmark in embedded mode (issue 18): POST /payments throughput of the platform as
// `npm start` runs it (every service in one Node process, on one PGlite cluster), against PGlite's
// own floor, in one run:
// 1. the platform (bench/payments-embedded-platform.ts) in a child process, so that the load
//    generator does not share its event loop, on a temporary data folder; BENCH_USERS users signed
//    up and logged in through the gateway, then BENCH_CLIENTS concurrent clients POSTing
//    /payments through the gateway, the contract's body with an Idempotency-Key per request, in
//    one load whose first BENCH_WARMUP_SECONDS are a warm-up: payments per second, p50/p99
//    latency, failures by status, and the CPU of both processes in the measured window; the
//    clients' first requests (sent at once) reported apart;
// 2. once the platform has stopped (it must not compete), a bare PGlite with the platform's
//    settings (createPglite) in the same scratch folder, one connection so one transaction at a
//    time: single-row insert transactions (autocommit) per second, the floor of any write;
// 3. on that PGlite, migrated by the payments service's own migrations, the SQL of one payment as
//    the service sends it (bench/payments/payment.sql, its statements and transactions run as
//    they are, the variables bound as parameters like pgbench -M extended, with the values of a
//    payment the platform made in this run): payments' worth of SQL per second.
// The ledger invariants are checked in the platform after the load. The scratch folder is
// removed at the end. 127.0.0.1 only; every loop bounded in count and in time. Results are
// printed as Markdown for docs/benchmarks.md.
//
//   node bench/payments-embedded.ts     BENCH_SECONDS=20 BENCH_WARMUP_SECONDS=5 BENCH_USERS=32 BENCH_CLIENTS=64
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createLogger } from '@paymesh/platform/logger';
import { createPglite, openDatabase } from '@paymesh/platform/db/open-database';
import { closeHttpClient, send } from './http-client.ts';
import { machineLine, percentile, signUp } from './embedded-on-postgres.ts';
import { machineBusyTicks, procTicks, ticksPerSecond } from './proc-cpu.ts';

const root = resolve(import.meta.dirname, '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 20);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const clients = Number(process.env.BENCH_CLIENTS ?? 64);
const userCount = Number(process.env.BENCH_USERS ?? 32);
const maxIterations = 10_000_000; // with the deadline, bounds every timed loop

const ms = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(1));
const sleep = (millis: number) => new Promise((r) => setTimeout(r, millis));

/** A process's own CPU so far (proc-cpu.ts); it runs for the whole measurement. */
const processTicks = (pid: number | 'self') => procTicks(pid)!.self;

/** `run` over and over for `durationSec`: its latencies and its throughput. */
async function timed(durationSec: number, run: () => Promise<void>): Promise<{ perSecond: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  const startedAt = performance.now();
  const endAt = startedAt + durationSec * 1000;
  for (let i = 0; i < maxIterations && performance.now() < endAt; i++) {
    const sentAt = performance.now();
    await run();
    latenciesMs.push(performance.now() - sentAt);
  }
  return { perSecond: latenciesMs.length / ((performance.now() - startedAt) / 1000), latenciesMs };
}

interface PlatformReport { payments: string; keys: string; violations: unknown[]; sample: Record<string, string> | undefined }

/** The platform's child process, once its gateway serves. */
function startPlatform(scratch: string): Promise<{ child: ChildProcess; gatewayUrl: string; stop: () => Promise<PlatformReport> }> {
  const child = spawn(process.execPath, [join(root, 'bench/payments-embedded-platform.ts'), scratch], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let said = ''; // what it said last on stderr, for the error when it fails
  child.stderr!.on('data', (chunk: Buffer) => (said = (said + chunk.toString()).slice(-2_000)));
  // Its JSON lines on stdout, by key; anything else on stdout is a log line and ignored.
  const lines = new Map<string, (value: any) => void>();
  let buffer = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      try {
        for (const [key, value] of Object.entries(JSON.parse(line) as object)) lines.get(key)?.(value);
      } catch {
        // not one of its JSON lines
      }
    }
  });
  const expect = <T>(key: string, what: string, timeoutMs: number) => new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // stuck: it must not outlive the benchmark
      reject(new Error(`the platform did not ${what} within ${timeoutMs / 1000} s; it said:\n${said}`));
    }, timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the platform exited (code ${code}) before it would ${what}; it said:\n${said}`));
    };
    child.once('exit', onExit);
    lines.set(key, (value: T) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      resolvePromise(value);
    });
  });
  return expect<string>('gatewayUrl', 'serve', 120_000).then((gatewayUrl) => ({
    child,
    gatewayUrl,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      const report = expect<PlatformReport>('report', 'report on its payments', 60_000);
      child.kill('SIGINT');
      try {
        return await report;
      } finally {
        await exited;
      }
    },
  }));
}

// ---- the run --------------------------------------------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), 'paymesh-bench-payments-embedded-'));
const suffix = randomBytes(3).toString('hex');
const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');
const out = (line = '') => console.log(line);

let platform: Awaited<ReturnType<typeof startPlatform>> | undefined;
let pglite: Awaited<ReturnType<typeof createPglite>> | undefined;
let cleaning: Promise<void> | undefined;
const cleanUp = () => (cleaning ??= (async () => {
  if (platform !== undefined && platform.child.exitCode === null && platform.child.signalCode === null) {
    const exited = new Promise((r) => platform!.child.once('exit', r));
    platform.child.kill('SIGKILL'); // a failed run: nothing of it is waited for
    await exited;
  }
  await pglite?.close().catch((error: unknown) => console.error('closing PGlite failed:', error));
  closeHttpClient();
  rmSync(scratch, { recursive: true, force: true });
})());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

try {
  // ---- 1. the platform under load -----------------------------------------------------------------
  platform = await startPlatform(scratch);
  const { gatewayUrl } = platform;
  const payers: { id: number; token: string }[] = [];
  for (let i = 0; i < userCount; i++) payers.push(await signUp(gatewayUrl, `bench${suffix}u${i}`));
  const pay = (payer: { id: number; token: string }) =>
    send(gatewayUrl, 'POST', '/payments', { authorization: `Bearer ${payer.token}`, 'idempotency-key': randomUUID() }, `{"amount": 12.34, "user_id": ${payer.id}}`);
  // A user's payers row arrives by event (user.registered): its first payment goes through once it is there.
  for (const payer of payers) {
    for (let attempt = 0; (await pay(payer)).status !== 200; attempt++) {
      if (attempt >= 300) throw new Error(`user ${payer.id}: no payment went through within 30 s`);
      await sleep(100);
    }
  }

  // One load: the clients start together (a burst of them on a platform that has only seen one
  // payment per user), run through the warm-up and then the measured seconds without stopping, so
  // the measured window holds the steady state, not a second burst. The burst is reported apart.
  async function paymentLoad(warmupSec: number, durationSec: number) {
    const sent: { at: number; ms: number; status: string }[] = [];
    const startedAt = performance.now();
    const measureFrom = startedAt + warmupSec * 1000;
    const endAt = measureFrom + durationSec * 1000;
    let cpuBefore = { platform: 0, self: 0, machine: 0 };
    const snapshot = setTimeout(() => {
      cpuBefore = { platform: processTicks(platform!.child.pid!), self: processTicks('self'), machine: machineBusyTicks() };
    }, warmupSec * 1000);
    await Promise.all(Array.from({ length: clients }, async (_, client) => {
      const payer = payers[client % payers.length]!;
      for (let n = 0; n < maxIterations && performance.now() < endAt; n++) {
        const at = performance.now();
        let status: string;
        try {
          status = String((await pay(payer)).status);
        } catch (error) {
          status = error instanceof Error ? error.message.slice(0, 60) : 'error';
        }
        sent.push({ at, ms: performance.now() - at, status });
      }
    }));
    clearTimeout(snapshot);
    const wallSec = (performance.now() - measureFrom) / 1000;
    const cores = (before: number, after: number) => (after - before) / ticksPerSecond / wallSec;
    const cpu = {
      platform: cores(cpuBefore.platform, processTicks(platform!.child.pid!)),
      self: cores(cpuBefore.self, processTicks('self')),
      machine: cores(cpuBefore.machine, machineBusyTicks()),
    };
    const measured = sent.filter((r) => r.at >= measureFrom);
    const failures = new Map<string, number>();
    for (const r of measured) if (r.status !== '200') failures.set(r.status, (failures.get(r.status) ?? 0) + 1);
    const latenciesMs = measured.filter((r) => r.status === '200').map((r) => r.ms);
    // The clients' first requests, all sent at once.
    const burst = sent.filter((r) => r.at < startedAt + 100);
    return {
      perSecond: latenciesMs.length / durationSec, latenciesMs, failures, cpu,
      burst: { requests: burst.length, maxMs: Math.max(...burst.map((r) => r.ms)), unanswered: burst.filter((r) => r.status !== '200').length },
    };
  }
  const service = await paymentLoad(warmupSeconds, seconds);
  const platformReport = await platform.stop();
  if (platformReport.violations.length > 0) throw new Error(`ledger invariants violated after the load: ${JSON.stringify(platformReport.violations.slice(0, 3))}`);
  if (platformReport.sample === undefined) throw new Error('no payment to take the payment-SQL floor\'s values from');

  // ---- 2. and 3. bare PGlite ----------------------------------------------------------------------
  // Migrated by the payments service's migration runner, in its order, then reopened bare.
  const floorDir = join(scratch, 'floor');
  const migrated = await openDatabase({
    url: undefined,
    dataDir: floorDir,
    migrations: [{ scope: 'platform', dir: join(root, 'packages/platform/migrations') }, { scope: 'payments', dir: join(root, 'services/payments/migrations') }],
    logger: createLogger('bench', 'warn'),
  });
  await migrated.close();
  pglite = await createPglite(floorDir, undefined);
  const client = pglite;

  await client.exec('create table t (id bigserial primary key, v text)');
  const insertRow = async () => {
    await client.query(`insert into t (v) values ('bench')`);
  };
  await timed(warmupSeconds, insertRow);
  const singleRow = await timed(seconds, insertRow);

  // payment.sql's statements in order (begin and commit included), each `:name` (not a `::` cast)
  // a parameter of its own, as pgbench -M extended binds it.
  const script = readFileSync(join(root, 'bench/payments/payment.sql'), 'utf8').replace(/^(--|\\).*$/gm, '');
  const statements = script.split(/;\s*\n/).map((s) => s.trim()).filter((s) => s !== '').map((text) => {
    const names: string[] = [];
    return { sql: text.replace(/(?<!:):([a-z_]\w*)/gi, (_, name: string) => `$${names.push(name)}`), names, ms: 0 };
  });
  const [debit, credit] = (await client.query<{ id: string }>(`insert into ledger_accounts (code, currency) values ('system:processor_clearing:USD', 'USD'), ('system:platform_revenue:USD', 'USD') returning id`)).rows.map((r) => r.id);
  await client.query(`insert into payers (user_id, status, as_of) select g, 'active', now() from generate_series(1, $1::int) g`, [userCount]);
  const constants: Record<string, unknown> = { ...platformReport.sample, debit, credit, amount: '1234', currency: 'USD', posted: true, pending: false };
  const paymentSql = async () => {
    const values: Record<string, unknown> = { ...constants, uid: String(randomInt(1, userCount + 1)), n: String(randomInt(1, 2 ** 48 - 1)) };
    for (const statement of statements) {
      const startedAt = performance.now();
      await client.query(statement.sql, statement.names.map((name) => values[name]));
      statement.ms += performance.now() - startedAt;
    }
  };
  await timed(warmupSeconds, paymentSql);
  for (const statement of statements) statement.ms = 0; // the measured run's only
  const paymentFloor = await timed(seconds, paymentSql);
  // Each statement outside begin … commit is a transaction of its own (autocommit); the block is one.
  const begin = statements.findIndex((s) => s.sql.toLowerCase() === 'begin');
  const commit = statements.findIndex((s) => s.sql.toLowerCase() === 'commit');
  const transactions = begin + (statements.length - commit - 1) + 1;
  const sqlStatements = statements.length - 2;

  // ---- report -------------------------------------------------------------------------------------
  out(`Machine: ${machineLine()}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; load average at start ${loadAtStart}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  out();
  out(`Embedded mode (one Node process, PGlite on disk), in a child process; POST /payments through the gateway from ${clients} concurrent clients over ${payers.length} users; one load, its first ${warmupSeconds} s a warm-up, then ${seconds} s measured (the floors: ${warmupSeconds} s warm-up then ${seconds} s measured). The floors ran on a bare PGlite with the platform's settings after the platform stopped, one transaction at a time (PGlite has one connection).`);
  out();
  out('| what | per second | p50 (ms) | p99 (ms) | failed |');
  out('|---|---|---|---|---|');
  const failed = [...service.failures].map(([k, v]) => `${v} × ${k}`).join(', ') || '0';
  out(`| \`POST /payments\` through the gateway, embedded (payments) | ${service.perSecond.toFixed(0)} | ${ms(percentile(service.latenciesMs, 50))} | ${ms(percentile(service.latenciesMs, 99))} | ${failed} |`);
  out(`| floor: bare PGlite, single-row insert transactions (autocommit) | ${singleRow.perSecond.toFixed(0)} | ${ms(percentile(singleRow.latenciesMs, 50))} | ${ms(percentile(singleRow.latenciesMs, 99))} | 0 |`);
  out(`| floor: bare PGlite, one payment's SQL (bench/payments/payment.sql: ${sqlStatements} statements in ${transactions} transactions) | ${paymentFloor.perSecond.toFixed(0)} | ${ms(percentile(paymentFloor.latenciesMs, 50))} | ${ms(percentile(paymentFloor.latenciesMs, 99))} | 0 |`);
  out();
  out(`Service ÷ single-row floor: ${(service.perSecond / singleRow.perSecond).toFixed(3)}; service ÷ payment-SQL floor: ${(service.perSecond / paymentFloor.perSecond).toFixed(2)}.`);
  out(`CPU during the measured load, in cores (from /proc): the platform's process (its PGlite included) ${service.cpu.platform.toFixed(2)}, the load generator ${service.cpu.self.toFixed(2)}, the machine ${service.cpu.machine.toFixed(2)} of ${cpus().length}.`);
  out(`The clients' first requests, sent at once (${service.burst.requests}): the slowest answered in ${ms(service.burst.maxMs)} ms, ${service.burst.unanswered} not answered with 200 (the measured window starts ${warmupSeconds} s later, the clients never stopping in between).`);
  out(`Ledger invariants hold after the load; ${platformReport.payments} payments and ${platformReport.keys} stored idempotent responses in the platform's payments schema.`);
  out();
  out(`Bare PGlite, mean latency per statement of payment.sql (ms), ${paymentFloor.latenciesMs.length} payments:`);
  out();
  out('| ms | statement |');
  out('|---|---|');
  for (const s of statements) out(`| ${(s.ms / paymentFloor.latenciesMs.length).toFixed(3)} | \`${s.sql.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 90)}\` |`);
} finally {
  await cleanUp();
}
