// The cost of tracing: POST /payments through the gateway in distributed mode (PostgreSQL + NATS
// on 127.0.0.1) with tracing off, on (every request traced) and on with one trace in ten sampled
// (the advised production setting), exported over OTLP/HTTP with the SDK's default protobuf
// protocol to a receiver in this process on a loopback port, which counts what it gets. The runs
// alternate (off, on, sampled, off…) so that drift of the machine falls on each. A fresh platform
// (its own databases trc_*, stream TRC_*) per run. Results are printed as Markdown for
// docs/benchmarks.md. `npm run bench:tracing`.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';
import { startDistributed, type DistributedPlatform } from '@paymesh/app/start-distributed';
import { otlpEnv, startOtlpReceiver } from '@paymesh/app/testing/otlp-receiver';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { deleteStreams } from '@paymesh/platform/events/delete-streams';
import { closeHttpClient, send, sendJson } from './http-client.ts';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const clients = Number(process.env.BENCH_CLIENTS ?? 32); // and as many payers
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
for (const url of [adminUrl, natsUrl]) {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`the benchmark only targets 127.0.0.1, not ${url}`);
}

const percentile = (xs: readonly number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};
const adminPassword = 'bench-admin-password-0123';
const suffix = randomBytes(3).toString('hex');

type Mode = 'off' | 'on' | 'on, 10 % sampled';
interface Run { tracing: Mode; rate: number; p50: number; p99: number; failures: number; exports: number; exportedKb: number }

async function runOnce(tracing: Mode, index: number): Promise<Run> {
  const scratch = mkdtempSync(join(tmpdir(), 'paymesh-bench-tracing-'));
  const names = serviceNames.map((name) => `trc_${suffix}_${index}_${name}`);
  const stream = `TRC_${suffix.toUpperCase()}_${index}`;
  const receiver = tracing === 'off' ? undefined : await startOtlpReceiver();
  let platform: DistributedPlatform | undefined;
  try {
    const databaseUrls = {} as Record<ServiceName, string>;
    for (const [i, name] of serviceNames.entries()) databaseUrls[name] = await ensureDatabase(adminUrl, names[i]!);
    const otel = receiver === undefined ? {} : { ...otlpEnv(receiver, 5_000), OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' };
    // What docs/tracing.md advises for production: the gateway samples one trace in ten, the rest follow it.
    const sampling = tracing === 'on, 10 % sampled' ? { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } : {};
    platform = await startDistributed({
      env: {
        ...process.env,
        ...otel,
        ...sampling,
        LOG_LEVEL: 'warn',
        // Every bench client is 127.0.0.1: the per-address limits would stop the sign-ups.
        USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR: '1000000',
        USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR: '1000000',
        BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
        BOOTSTRAP_ADMIN_PASSWORD_FILE: join(scratch, 'admin.txt'),
        EMAIL_OUTBOX_DIR: join(scratch, 'mail'),
        PORT: undefined, DATABASE_URL: undefined, NATS_URL: undefined, AUTH_ISSUER: undefined, PUBLIC_URL: undefined, SERVICE_CLIENTS: undefined,
      },
      databaseUrls, natsUrl, natsStream: stream, ports: 'random', logDir: join(scratch, 'logs'),
    });
    const base = platform.gatewayUrl;
    // One payer per client, as bench/payments.ts: payments of one payer queue behind its row lock.
    const payers: { headers: Record<string, string>; body: string }[] = [];
    for (let i = 0; i < clients; i++) {
      const user = { username: `trc${suffix}r${index}u${i}`, email: `trc${suffix}r${index}u${i}@example.com`, password: `bench-password-${suffix}-${i}` };
      const created = await send(base, 'POST', '/users/create_user', {}, JSON.stringify(user));
      if (created.status !== 200) throw new Error(`create_user failed: ${created.status} ${created.text}`);
      const login = await sendJson(base, 'POST', '/auth/login', { json: { username: user.username, password: user.password } });
      if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
      const me = await sendJson(base, 'GET', '/users/me', { token: login.body.token });
      payers.push({ headers: { authorization: `Bearer ${login.body.token as string}` }, body: `{"amount": 12.34, "user_id": ${me.body.id}}` });
    }
    const load = async (durationSec: number) => {
      const latenciesMs: number[] = [];
      let failures = 0;
      const startedAt = performance.now();
      const endAt = startedAt + durationSec * 1000;
      await Promise.all(payers.map(async ({ headers, body }) => {
        for (let n = 0; n < 1_000_000 && performance.now() < endAt; n++) {
          const sentAt = performance.now();
          const response = await send(base, 'POST', '/payments', { ...headers, 'idempotency-key': randomUUID() }, body).catch(() => ({ status: 0 }));
          if (response.status === 200) latenciesMs.push(performance.now() - sentAt);
          else failures++;
        }
      }));
      return { latenciesMs, failures, wallSec: (performance.now() - startedAt) / 1000 };
    };
    await load(warmupSeconds);
    const before = { ...(receiver?.exports ?? { requests: 0, bytes: 0 }) };
    const result = await load(seconds);
    const after = receiver?.exports ?? { requests: 0, bytes: 0 };
    return {
      tracing,
      rate: result.latenciesMs.length / result.wallSec,
      p50: percentile(result.latenciesMs, 50),
      p99: percentile(result.latenciesMs, 99),
      failures: result.failures,
      exports: after.requests - before.requests,
      exportedKb: (after.bytes - before.bytes) / 1024,
    };
  } finally {
    await platform?.stop();
    await receiver?.close();
    for (const name of names) await dropDatabase(adminUrl, name).catch((error: unknown) => console.error(`dropping ${name} failed:`, error));
    await deleteStreams(natsUrl, [stream]).catch((error: unknown) => console.error(`deleting stream ${stream} failed:`, error));
    rmSync(scratch, { recursive: true, force: true });
  }
}

const runs: Run[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    for (const tracing of ['off', 'on', 'on, 10 % sampled'] as const) {
      const run = await runOnce(tracing, runs.length);
      runs.push(run);
      console.error(`round ${round + 1}, tracing ${tracing}: ${run.rate.toFixed(0)} payments/s, p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms`);
    }
  }
} finally {
  closeHttpClient();
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`POST /payments through the gateway, distributed mode, ${clients} clients (one payer each), ${seconds} s per run after ${warmupSeconds} s of warm-up, ${rounds} round(s) alternating off / on / sampled; load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}:\n`);
console.log('| tracing | payments/s | p50 ms | p99 ms | failures | OTLP exports (KiB) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const run of runs) console.log(`| ${run.tracing} | ${run.rate.toFixed(0)} | ${run.p50.toFixed(1)} | ${run.p99.toFixed(1)} | ${run.failures} | ${run.tracing === 'off' ? '—' : `${run.exports} (${run.exportedKb.toFixed(0)})`} |`);
const off = mean(runs.filter((run) => run.tracing === 'off').map((run) => run.rate));
const on = mean(runs.filter((run) => run.tracing === 'on').map((run) => run.rate));
const sampled = mean(runs.filter((run) => run.tracing === 'on, 10 % sampled').map((run) => run.rate));
console.log(`\nMean: off ${off.toFixed(0)}/s, every request traced ${on.toFixed(0)}/s (${((1 - on / off) * 100).toFixed(0)} % less), one in ten traced ${sampled.toFixed(0)}/s (${((1 - sampled / off) * 100).toFixed(0)} % less).`);
