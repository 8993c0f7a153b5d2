// Live streams at scale (issue 18): one notifications replica behind the gateway holding N
// concurrent GET /notifications/stream, this process being the clients, each stream on a
// connection of its own. Two modes (BENCH_STREAMS_MODE):
// - embedded (default): `npm start`'s process (scripts/start.ts: gateway and the four services in
//   one process, PGlite on a fresh temporary folder) in a child process;
// - distributed: startDistributed, one process per service on the machine's PostgreSQL (databases
//   bench_*, dropped at the end) and NATS JetStream (a stream of its own, deleted at the end), plus
//   as many more gateway processes as the gateways' open files need (two sockets per stream).
// Measured: each process's RSS and open files before and with the N streams, memory per stream,
// the time to open them, the latency of a payment's notification reaching every stream of its
// payer (p50/p99) while payments flow, and an API call's latency through the gateway meanwhile
// (the streams have their own pool: ADR 28). Beside them, in the same run: the same payments with
// few streams open, and the physical reference, a bare Node process holding the same sockets per
// stream as the measured process (embedded: an SSE proxy and its server in one process, three
// sockets; distributed: an SSE server, one socket), its RSS per stream. Printed as Markdown for
// docs/benchmarks.md.
//
// Tokens: the notifications service allows 10 streams per account and replica, so N streams are
// held by N/10 accounts (sign-up and login cost two argon2id hashes each: 10,000 accounts would
// take minutes of the machine's two cores), each account's token on its 10 streams.
// Every socket is a file: processes inherit this process's nofile limit (`ulimit -n`; raise it
// first where the hard limit allows: `ulimit -n 40000 && npm run bench:streams`). When the process
// holding the most sockets per stream cannot hold N streams, N is lowered to what fits and the
// report says so. 127.0.0.1 only; every loop bounded in count and time.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from '@paymesh/app/free-ports';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';
import { startDistributed, type DistributedPlatform } from '@paymesh/app/start-distributed';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { deleteStreams } from '@paymesh/platform/events/delete-streams';
import { closeHttpClient, send, sendJson } from './http-client.ts';
import { SseStream } from './sse-stream.ts';

const root = resolve(import.meta.dirname, '..');
const mode = process.env.BENCH_STREAMS_MODE ?? 'embedded';
if (mode !== 'embedded' && mode !== 'distributed') throw new Error(`BENCH_STREAMS_MODE: embedded or distributed, not ${mode}`);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
for (const url of [adminUrl, natsUrl]) {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`the benchmark only targets 127.0.0.1, not ${url}`);
}
const requestedStreams = Number(process.env.BENCH_STREAMS ?? 10_000);
const streamsPerUser = 10; // notifications' maxStreamsPerUser
const filesAtRest = 1_000; // a process's own files (about 520 for the embedded platform: PGlite, listeners, pools), with room to spare
const nofile = Number(readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))?.split(/\s+/)[3]);
const perProcessStreams = (sockets: number) => Math.floor((nofile - filesAtRest) / sockets / streamsPerUser) * streamsPerUser;
// Embedded: three sockets per stream in the one process. Distributed: one in notifications, two in
// a gateway, whose replicas share the streams.
const streamCount = Math.min(requestedStreams, perProcessStreams(mode === 'embedded' ? 3 : 1));
const gatewayCount = mode === 'embedded' ? 1 : Math.ceil(streamCount / perProcessStreams(2));
const fewStreams = Number(process.env.BENCH_FEW_STREAMS ?? 100);
const paymentCount = Number(process.env.BENCH_PAYMENTS ?? 300);
const paymentConcurrency = Number(process.env.BENCH_PAYMENT_CONCURRENCY ?? 4);
const openConcurrency = Number(process.env.BENCH_OPEN_CONCURRENCY ?? 64);
const signUpConcurrency = Number(process.env.BENCH_SIGNUP_CONCURRENCY ?? 4);
const waitMs = 10_000; // per payment, for every stream of its payer
const phaseLimitMs = 300_000; // no phase runs longer than this

if (streamCount % streamsPerUser !== 0 || fewStreams % streamsPerUser !== 0 || fewStreams > streamCount) throw new Error(`BENCH_STREAMS and BENCH_FEW_STREAMS: multiples of ${streamsPerUser}, few ≤ all`);

const percentile = (xs: readonly number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};
const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? x.toFixed(2) : x.toFixed(1));
const mb = (kb: number) => (kb / 1024).toFixed(0);
const sleep = (millis: number) => new Promise((r) => setTimeout(r, millis));
const out = (line = '') => console.log(line);

function rssKb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(/(\d+) kB/.exec(line ?? '')?.[1] ?? Number.NaN);
}
const openFiles = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** A child (it inherits this process's nofile limit); resolves with its first stdout line that parses as JSON with `ready`. */
function startChild(args: string[], env: Record<string, string | undefined>): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  return new Promise((resolvePromise, reject) => {
    // Its banner and warnings go to stderr: kept, and shown only when it fails to start.
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${args[0]}: not ready within 60 s\n${stderr}`)); }, 60_000);
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n').slice(0, -1)) {
        if (!line.startsWith('{"ready":true')) continue;
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolvePromise({ child, ready: JSON.parse(line) as Record<string, unknown> });
        return;
      }
      buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${args[0]} exited with ${code} before it was ready\n${stderr}`)); });
  });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGINT');
  await Promise.race([exited, sleep(20_000)]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

/** Opens `count` streams with `token[i % tokens]` through `bases[i % bases]`, `openConcurrency` at a time; each is live once its first unread count came. */
async function openStreams(bases: readonly string[], tokens: readonly string[], count: number, into: SseStream[]): Promise<{ wallMs: number; openMs: number[]; failed: string[] }> {
  const openMs: number[] = [];
  const failed: string[] = [];
  const startedAt = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count && failed.length < 20 && performance.now() - startedAt < phaseLimitMs) {
      const i = next++;
      const at = performance.now();
      const stream = new SseStream(bases[i % bases.length]!, tokens[i % tokens.length]!);
      into.push(stream);
      try {
        await stream.ready(30_000);
        openMs.push(performance.now() - at);
      } catch (error) {
        failed.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: openConcurrency }, worker));
  return { wallMs: performance.now() - startedAt, openMs, failed };
}

interface PaymentRun { latencyMs: number[]; missed: number; postMs: number[]; apiMs: number[]; apiFailed: number; wallMs: number }

/** Payments round-robin over `payers`, `paymentConcurrency` at a time; each one's notification timed at every stream of its payer. An API call after each payment. */
async function runPayments(base: string, payers: readonly { id: number; token: string; streams: SseStream[] }[], count: number): Promise<PaymentRun> {
  const run: PaymentRun = { latencyMs: [], missed: 0, postMs: [], apiMs: [], apiFailed: 0, wallMs: 0 };
  const startedAt = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() - startedAt < phaseLimitMs) {
      const payer = payers[next++ % payers.length]!;
      const sentAt = performance.now();
      const paid = await sendJson(base, 'POST', '/payments', { token: payer.token, json: { amount: 1.25, user_id: payer.id } });
      const t0 = performance.now();
      if (paid.status !== 200) throw new Error(`POST /payments: ${paid.status} ${JSON.stringify(paid.body)}`);
      run.postMs.push(t0 - sentAt);
      const paymentId = String(paid.body.payment.id);
      for (const arrival of await Promise.all(payer.streams.map((stream) => stream.arrival(paymentId, t0 + waitMs)))) {
        if (arrival === undefined) run.missed++;
        else run.latencyMs.push(Math.max(0, arrival.at - t0));
      }
      const apiAt = performance.now();
      const api = await send(base, 'GET', '/notifications/unread_count', { authorization: `Bearer ${payer.token}` });
      if (api.status === 200) run.apiMs.push(performance.now() - apiAt);
      else run.apiFailed++;
    }
  };
  await Promise.all(Array.from({ length: paymentConcurrency }, worker));
  run.wallMs = performance.now() - startedAt;
  return run;
}

// The physical reference: Node itself holding SSE streams with the sockets per stream of the
// measured process, no framework, no auth. Embedded: a server and a proxy to it in one process
// (three sockets per stream); distributed: the server alone (one, as a notifications replica).
const bareServer = `
const http = require('node:http');
const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/event-stream' }); res.write('event: unread_count\\ndata: {"unread":0}\\n\\n'); });
const agent = new http.Agent({ keepAlive: false });
const proxy = http.createServer((req, res) => {
  const upstream = http.request({ host: '127.0.0.1', port: server.address().port, path: req.url, headers: req.headers, agent }, (up) => { res.writeHead(up.statusCode, up.headers); up.pipe(res); });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
});
const front = process.argv[1] === 'proxy' ? proxy : server;
server.listen(0, '127.0.0.1', () => proxy.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ ready: true, url: 'http://127.0.0.1:' + front.address().port }))));
process.on('SIGINT', () => process.exit(0));
`;

const suffix = randomBytes(3).toString('hex');
const scratch = mkdtempSync(join(tmpdir(), 'paymesh-bench-streams-'));
const adminPassword = 'bench-admin-password-0123';
const natsStream = `BENCH${suffix.toUpperCase()}`;
const databases = serviceNames.map((name) => `bench_${suffix}_${name}`);
const streams: SseStream[] = [];
const children: ChildProcess[] = [];
let distributed: DistributedPlatform | undefined;
let cleaning: Promise<void> | undefined;
const cleanUp = () => (cleaning ??= (async () => {
  for (const stream of streams) stream.close();
  for (const child of children) await stopChild(child);
  await distributed?.stop().catch((error: unknown) => console.error('stopping the distributed platform failed:', error));
  if (mode === 'distributed') {
    for (const name of databases) await dropDatabase(adminUrl, name).catch((error: unknown) => console.error(`dropping ${name} failed:`, error));
    await deleteStreams(natsUrl, [natsStream]).catch((error: unknown) => console.error('deleting the NATS stream failed:', error));
  }
  closeHttpClient();
  rmSync(scratch, { recursive: true, force: true });
})());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ready) return;
    await sleep(200);
  }
  throw new Error(`${url} not ready within 60 s`);
}

/** The platform's processes: where the clients connect (its gateways) and whose memory is read. */
interface Platform { gateways: string[]; processes: { name: string; pid: number; streamShare: number }[] }

// One gateway port for every start: the tokens' issuer names it.
const [gatewayPort] = await freePorts(1);
const platformEnv = {
  ...process.env,
  LOG_LEVEL: 'warn', BOOTSTRAP_ADMIN_PASSWORD: adminPassword, BOOTSTRAP_ADMIN_PASSWORD_FILE: join(scratch, 'admin.txt'),
  EMAIL_OUTBOX_DIR: join(scratch, 'mail'), ACCESS_TOKEN_TTL_SECONDS: '900', PORT: String(gatewayPort),
  // Every client of the benchmark is 127.0.0.1.
  MAX_STREAMS_PER_ADDRESS: String(streamCount + 100), MAX_STREAMS: String(streamCount + 100),
  USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR: '1000000', USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR: '1000000',
  DATABASE_URL: undefined, NATS_URL: undefined, PUBLIC_URL: undefined, AUTH_ISSUER: undefined, SERVICE_CLIENTS: undefined,
};

async function startEmbeddedPlatform(): Promise<Platform> {
  const started = await startChild(['scripts/start.ts'], { ...platformEnv, PAYMESH_READY_LINE: '1', PAYMESH_PORTS: 'random', PAYMESH_DATA_ROOT: join(scratch, 'data') });
  children.push(started.child);
  return { gateways: [String(started.ready.gateway).replace('localhost', '127.0.0.1')], processes: [{ name: 'platform (gateway and the four services)', pid: started.child.pid!, streamShare: 1 }] };
}

async function startDistributedPlatform(): Promise<Platform> {
  const databaseUrls = {} as Record<ServiceName, string>;
  for (const [i, name] of serviceNames.entries()) databaseUrls[name] = await ensureDatabase(adminUrl, databases[i]!);
  distributed = await startDistributed({ env: platformEnv, databaseUrls, natsUrl, natsStream, ports: 'random', logDir: join(scratch, 'logs') });
  const { plan } = distributed;
  const gateways = [distributed.gatewayUrl];
  const processes = [{ name: 'notifications', pid: distributed.processes.notifications.pid!, streamShare: 1 }, { name: 'gateway 1', pid: distributed.processes.gateway.pid!, streamShare: 1 / gatewayCount }];
  // More gateway replicas in front of the same services, as a Deployment scaled out: stateless,
  // the same configuration (the public URL is the first one's: the tokens' issuer).
  for (let i = 2; i <= gatewayCount; i++) {
    const [port, metricsPort] = await freePorts(2);
    const url = (name: ServiceName) => `http://127.0.0.1:${plan.http[name]}`;
    const child = spawn(process.execPath, [join(root, 'services/gateway/src/main.ts')], {
      cwd: root, stdio: 'ignore',
      env: { ...platformEnv, PORT: String(port), METRICS_PORT: String(metricsPort), AUTH_URL: url('auth'), USERS_URL: url('users'), PAYMENTS_URL: url('payments'), NOTIFICATIONS_URL: url('notifications'), PUBLIC_URL: `http://localhost:${plan.gateway}` },
    });
    children.push(child);
    await waitReady(`http://127.0.0.1:${port}`);
    gateways.push(`http://127.0.0.1:${port}`);
    processes.push({ name: `gateway ${i}`, pid: child.pid!, streamShare: 1 / gatewayCount });
  }
  return { gateways: gateways.map((g) => g.replace('localhost', '127.0.0.1')), processes };
}

try {
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'cpu';
  const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');

  // The reference first, alone: its RSS with no stream and with N.
  const bareStart = await startChild(['-e', bareServer, mode === 'embedded' ? 'proxy' : 'server'], { PATH: process.env.PATH });
  children.push(bareStart.child);
  const barePid = bareStart.child.pid!;
  await sleep(500);
  const bareIdleKb = rssKb(barePid);
  const bareStreams: SseStream[] = [];
  const bareOpen = await openStreams([String(bareStart.ready.url)], ['reference'], streamCount, bareStreams);
  await sleep(1_000);
  const bareFullKb = rssKb(barePid);
  for (const stream of bareStreams) stream.close();
  await stopChild(bareStart.child);

  let platform = mode === 'embedded' ? await startEmbeddedPlatform() : await startDistributedPlatform();
  const base = platform.gateways[0]!;

  // Accounts, each with a token for its 10 streams.
  const userCount = streamCount / streamsPerUser;
  const users: { id: number; token: string; streams: SseStream[] }[] = [];
  const signUpStartedAt = performance.now();
  let nextUser = 0;
  await Promise.all(Array.from({ length: signUpConcurrency }, async () => {
    while (nextUser < userCount && performance.now() - signUpStartedAt < phaseLimitMs) {
      const i = nextUser++;
      const username = `st${suffix}${i}`;
      const password = `bench-password-${suffix}-${i}`;
      const signedUp = await sendJson(base, 'POST', '/users', { json: { username, email: `${username}@example.com`, password } });
      if (signedUp.status !== 202) throw new Error(`sign-up failed: ${signedUp.status} ${JSON.stringify(signedUp.body)}`);
      const login = await sendJson(base, 'POST', '/auth/login', { json: { username, password } });
      if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
      const me = await sendJson(base, 'GET', '/users/me', { token: login.body.token });
      users.push({ id: Number(me.body.id), token: login.body.token as string, streams: [] });
    }
  }));
  const signUpSec = (performance.now() - signUpStartedAt) / 1000;
  if (users.length < userCount) throw new Error(`only ${users.length} of ${userCount} accounts signed up within ${phaseLimitMs / 1000} s`);
  if (mode === 'embedded') {
    // Started again on the same data, so that the streams are measured from a process as `npm
    // start` leaves it, not one grown by the sign-ups' password hashing. The tokens stay valid.
    await stopChild(children.pop());
    platform = await startEmbeddedPlatform();
  }
  const bases = platform.gateways;
  const memory = () => platform.processes.map((p) => ({ kb: rssKb(p.pid), files: openFiles(p.pid) }));
  await sleep(2_000);
  const fresh = memory();

  // A few streams: the payments' baseline.
  const few = users.slice(0, fewStreams / streamsPerUser);
  const fewOpen = await openStreams(bases, few.flatMap((u) => Array(streamsPerUser).fill(u.token) as string[]), fewStreams, streams);
  if (fewOpen.failed.length > 0) throw new Error(`streams failed to open: ${fewOpen.failed.slice(0, 3).join('; ')}`);
  for (const [i, stream] of streams.entries()) few[Math.floor(i / streamsPerUser)]!.streams.push(stream);
  await runPayments(base, few, 20); // warm-up
  const fewRun = await runPayments(base, few, paymentCount);

  // The rest, up to N: the opening is timed, and the memory they take is measured from here (the
  // processes warm: their first payments and streams behind them).
  await sleep(2_000);
  const warm = memory();
  const rest = users.slice(few.length);
  const restStreams: SseStream[] = [];
  const restOpen = await openStreams(bases, rest.flatMap((u) => Array(streamsPerUser).fill(u.token) as string[]), streamCount - fewStreams, restStreams);
  streams.push(...restStreams);
  for (const [i, stream] of restStreams.entries()) rest[Math.floor(i / streamsPerUser)]!.streams.push(stream);
  const live = streams.filter((s) => s.failure === undefined && s.countsSeen > 0).length;
  await sleep(2_000);
  const full = memory();
  // Payments over every payer (their notifications fan out to their 10 streams each), N streams open.
  const fullRun = await runPayments(base, users.filter((u) => u.streams.length === streamsPerUser), paymentCount);
  const afterPayments = memory();
  const loadAtEnd = loadavg().map((x) => x.toFixed(2)).join(' ');

  const barePerStreamKb = (bareFullKb - bareIdleKb) / bareOpen.openMs.length;
  out(`### Live streams: ${live.toLocaleString('en')} through the gateway, ${mode} mode (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
  out();
  out(`Machine: ${cpuModel}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; load average ${loadAtStart} at the start, ${loadAtEnd} at the end (the machine is shared with other engineers' runs: noisy).`);
  if (streamCount < requestedStreams) out(`**Bounded by open files**: ${requestedStreams.toLocaleString('en')} streams were asked for; a process may open ${nofile.toLocaleString('en')} files here (\`ulimit -n\`, its hard limit), and ${mode === 'embedded' ? 'the platform\'s one process holds three sockets per stream' : 'the notifications process holds one socket per stream'}, so ${streamCount.toLocaleString('en')} were opened.`);
  out(mode === 'embedded'
    ? `One process (\`npm start\`: gateway and the four services, PGlite on a fresh folder), nofile ${nofile}; ${userCount.toLocaleString('en')} accounts signed up and logged in (${signUpSec.toFixed(0)} s, ${signUpConcurrency} at a time), each token on ${streamsPerUser} streams; the platform then started again on the same data before the streams (its RSS without streams is a fresh start's).`
    : `One process per service (PostgreSQL, NATS JetStream) and ${gatewayCount} gateway process${gatewayCount === 1 ? '' : 'es'} (each holds two sockets per stream; the streams are spread over them), nofile ${nofile}; ${userCount.toLocaleString('en')} accounts signed up and logged in (${signUpSec.toFixed(0)} s, ${signUpConcurrency} at a time), each token on ${streamsPerUser} streams.`);
  out();
  out(`Streams open: ${live.toLocaleString('en')} of ${streamCount.toLocaleString('en')} (${restOpen.failed.length + fewOpen.failed.length} failed${restOpen.failed[0] === undefined ? '' : `: ${restOpen.failed[0]}`}); ${bareOpen.openMs.length.toLocaleString('en')} on the reference.`);
  out();
  out(`| process | streams it holds | RSS: fresh → warm with ${fewStreams} streams → with all (→ after the payments) | memory per stream (RSS growth from the warm point) | open files: fresh → with all |`);
  out('|---|---|---|---|---|');
  for (const [i, process_] of platform.processes.entries()) {
    const held = Math.round(live * process_.streamShare);
    const perStream = (full[i]!.kb - warm[i]!.kb) / (restOpen.openMs.length * process_.streamShare);
    out(`| ${process_.name} | ${held.toLocaleString('en')} | ${mb(fresh[i]!.kb)} → ${mb(warm[i]!.kb)} → ${mb(full[i]!.kb)} (→ ${mb(afterPayments[i]!.kb)}) MB | ${perStream.toFixed(1)} KB | ${fresh[i]!.files} → ${full[i]!.files} |`);
  }
  out(`| reference: bare Node SSE ${mode === 'embedded' ? 'proxy → server' : 'server'}, one process | ${bareOpen.openMs.length.toLocaleString('en')} | ${mb(bareIdleKb)} → – → ${mb(bareFullKb)} MB | ${barePerStreamKb.toFixed(1)} KB | – |`);
  out();
  out(`Time to open (${openConcurrency} at a time, until each sent its first count): ${(restOpen.wallMs / 1000).toFixed(1)} s for ${restOpen.openMs.length.toLocaleString('en')} (${(restOpen.openMs.length / (restOpen.wallMs / 1000)).toFixed(0)}/s), one stream p50 ${ms(percentile(restOpen.openMs, 50))} ms, p99 ${ms(percentile(restOpen.openMs, 99))} ms; reference ${(bareOpen.wallMs / 1000).toFixed(1)} s (${(bareOpen.openMs.length / (bareOpen.wallMs / 1000)).toFixed(0)}/s), p50 ${ms(percentile(bareOpen.openMs, 50))} ms, p99 ${ms(percentile(bareOpen.openMs, 99))} ms.`);
  out();
  out(`Payments, ${paymentConcurrency} at a time, round-robin over the payers; latency from the POST /payments response to the notification on each of the payer's ${streamsPerUser} streams; an API call (GET /notifications/unread_count through the gateway) after each payment:`);
  out();
  out('| streams open | payments | payment POST p50 / p99 | notification on the stream p50 / p99 / max | missed | API call p50 / p99 (failed) | payments/s |');
  out('|---|---|---|---|---|---|---|');
  for (const [label, run] of [[`${fewStreams}`, fewRun], [live.toLocaleString('en'), fullRun]] as const) {
    const count = run.postMs.length;
    out(`| ${label} | ${count} | ${ms(percentile(run.postMs, 50))} / ${ms(percentile(run.postMs, 99))} ms | ${ms(percentile(run.latencyMs, 50))} / ${ms(percentile(run.latencyMs, 99))} / ${ms(Math.max(...run.latencyMs))} ms | ${run.missed} | ${ms(percentile(run.apiMs, 50))} / ${ms(percentile(run.apiMs, 99))} ms (${run.apiFailed}) | ${(count / (run.wallMs / 1000)).toFixed(0)} |`);
  }
} finally {
  await cleanUp();
}
process.exit(0);
