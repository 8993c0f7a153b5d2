// Live streams at scale (issue 18): one notifications replica behind the gateway holding N
// concurrent GET /notifications/stream, in embedded mode (`npm start`'s process: gateway and
// services in one process, PGlite on a fresh temporary folder), this process being the clients.
// Measured: the platform process's RSS and open files before and with the N streams, memory per
// stream, the time to open them, the latency of a payment's notification reaching every stream of
// its payer (p50/p99) while payments flow, and an API call's latency through the gateway meanwhile
// (the streams have their own pool: ADR 28). Beside them, in the same run: the same payments with
// few streams open, and the physical reference, a bare Node process that proxies SSE streams to a
// bare SSE server in the same process (three sockets per stream, as embedded mode holds), its RSS
// per stream. Printed as Markdown for docs/benchmarks.md.
//
// Tokens: the notifications service allows 10 streams per account and replica, so N streams are
// held by N/10 accounts (sign-up and login cost two argon2id hashes each: 10,000 accounts would
// take minutes of the machine's two cores), each account's token on its 10 streams.
// Each process needs one file per socket: the platform three per stream (the client's socket at
// the gateway, the gateway's to notifications, notifications' own), this process one. The
// platform inherits this process's nofile limit (`ulimit -n`; raise it first where the hard
// limit allows: `ulimit -n 40000 && npm run bench:streams`); when it cannot hold N streams, N is
// lowered to what fits and the report says so.
// 127.0.0.1 only; every loop bounded in count and time.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { freePorts } from '@paymesh/app/free-ports';
import { closeHttpClient, send, sendJson } from './http-client.ts';
import { SseStream } from './sse-stream.ts';

const root = resolve(import.meta.dirname, '..');
const requestedStreams = Number(process.env.BENCH_STREAMS ?? 10_000);
const streamsPerUser = 10; // notifications' maxStreamsPerUser
const socketsPerStream = 3; // in the platform's one process
const filesAtRest = 1_000; // the platform's own files (about 520: PGlite, listeners, pools), with room to spare
const nofile = Number(readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))?.split(/\s+/)[3]);
const fitting = Math.floor((nofile - filesAtRest) / socketsPerStream / streamsPerUser) * streamsPerUser;
const streamCount = Math.min(requestedStreams, fitting);
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

/** Opens `count` streams with `token[i % tokens]`, `openConcurrency` at a time; each is live once its first unread count came. */
async function openStreams(base: string, tokens: readonly string[], count: number, into: SseStream[]): Promise<{ wallMs: number; openMs: number[]; failed: string[] }> {
  const openMs: number[] = [];
  const failed: string[] = [];
  const startedAt = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count && failed.length < 20 && performance.now() - startedAt < phaseLimitMs) {
      const i = next++;
      const at = performance.now();
      const stream = new SseStream(base, tokens[i % tokens.length]!);
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

// The physical reference: Node itself holding a proxied SSE stream (a server, and a proxy to it in
// the same process: three sockets per stream, as embedded mode holds them), no framework, no auth.
const bareChain = `
const http = require('node:http');
const server = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/event-stream' }); res.write('event: unread_count\\ndata: {"unread":0}\\n\\n'); });
const agent = new http.Agent({ keepAlive: false });
const proxy = http.createServer((req, res) => {
  const upstream = http.request({ host: '127.0.0.1', port: server.address().port, path: req.url, headers: req.headers, agent }, (up) => { res.writeHead(up.statusCode, up.headers); up.pipe(res); });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
});
server.listen(0, '127.0.0.1', () => proxy.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ ready: true, url: 'http://127.0.0.1:' + proxy.address().port }))));
process.on('SIGINT', () => process.exit(0));
`;

const suffix = randomBytes(3).toString('hex');
const scratch = mkdtempSync(join(tmpdir(), 'paymesh-bench-streams-'));
const adminPassword = 'bench-admin-password-0123';
const streams: SseStream[] = [];
let platform: ChildProcess | undefined;
let bare: ChildProcess | undefined;
let cleaning: Promise<void> | undefined;
const cleanUp = () => (cleaning ??= (async () => {
  for (const stream of streams) stream.close();
  await stopChild(platform);
  await stopChild(bare);
  closeHttpClient();
  rmSync(scratch, { recursive: true, force: true });
})());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));

try {
  const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'cpu';
  const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');

  // The reference first, alone: its RSS with no stream and with N.
  const bareStart = await startChild(['-e', bareChain], { PATH: process.env.PATH });
  bare = bareStart.child;
  const bareUrl = String(bareStart.ready.url);
  await sleep(500);
  const bareIdleKb = rssKb(bare.pid!);
  const bareStreams: SseStream[] = [];
  const bareOpen = await openStreams(bareUrl, ['reference'], streamCount, bareStreams);
  await sleep(1_000);
  const bareFullKb = rssKb(bare.pid!);
  for (const stream of bareStreams) stream.close();
  await stopChild(bare);

  // One gateway port for both starts: the tokens' issuer names it.
  const [gatewayPort] = await freePorts(1);
  const platformEnv = {
    ...process.env,
    PAYMESH_READY_LINE: '1', PAYMESH_PORTS: 'random', PAYMESH_DATA_ROOT: join(scratch, 'data'), PORT: String(gatewayPort),
    LOG_LEVEL: 'warn', BOOTSTRAP_ADMIN_PASSWORD: adminPassword, BOOTSTRAP_ADMIN_PASSWORD_FILE: join(scratch, 'admin.txt'),
    EMAIL_OUTBOX_DIR: join(scratch, 'mail'), ACCESS_TOKEN_TTL_SECONDS: '900',
    // Every client of the benchmark is 127.0.0.1.
    MAX_STREAMS_PER_ADDRESS: String(streamCount + 100), MAX_STREAMS: String(streamCount + 100),
    USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR: '1000000', USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR: '1000000',
    DATABASE_URL: undefined, NATS_URL: undefined, PUBLIC_URL: undefined, AUTH_ISSUER: undefined, SERVICE_CLIENTS: undefined,
  };
  const startPlatform = async () => {
    const started = await startChild(['scripts/start.ts'], platformEnv);
    platform = started.child;
    return String(started.ready.gateway).replace('localhost', '127.0.0.1');
  };
  let base = await startPlatform();

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
  // Started again on the same data, so that the streams are measured from a process as `npm start`
  // leaves it, not one grown by the sign-ups' password hashing. The tokens stay valid.
  await stopChild(platform);
  base = await startPlatform();
  const pid = platform!.pid!;
  await sleep(2_000);
  const idleKb = rssKb(pid);
  const idleFiles = openFiles(pid);

  // A few streams: the payments' baseline.
  const few = users.slice(0, fewStreams / streamsPerUser);
  const fewOpen = await openStreams(base, few.flatMap((u) => Array(streamsPerUser).fill(u.token) as string[]), fewStreams, streams);
  if (fewOpen.failed.length > 0) throw new Error(`streams failed to open: ${fewOpen.failed.slice(0, 3).join('; ')}`);
  for (const [i, stream] of streams.entries()) few[Math.floor(i / streamsPerUser)]!.streams.push(stream);
  await runPayments(base, few, 20); // warm-up
  const fewRun = await runPayments(base, few, paymentCount);

  // The rest, up to N: the opening is timed, and the memory they take is measured from here (the
  // process warm: its first payments and streams behind it).
  await sleep(2_000);
  const warmKb = rssKb(pid);
  const rest = users.slice(few.length);
  const restStreams: SseStream[] = [];
  const restOpen = await openStreams(base, rest.flatMap((u) => Array(streamsPerUser).fill(u.token) as string[]), streamCount - fewStreams, restStreams);
  streams.push(...restStreams);
  for (const [i, stream] of restStreams.entries()) rest[Math.floor(i / streamsPerUser)]!.streams.push(stream);
  const live = streams.filter((s) => s.failure === undefined && s.countsSeen > 0).length;
  await sleep(2_000);
  const fullKb = rssKb(pid);
  const fullFiles = openFiles(pid);
  // Payments over every payer (their notifications fan out to their 10 streams each), N streams open.
  const fullRun = await runPayments(base, users.filter((u) => u.streams.length === streamsPerUser), paymentCount);
  const fullAfterKb = rssKb(pid);
  const loadAtEnd = loadavg().map((x) => x.toFixed(2)).join(' ');

  const perStreamKb = (fullKb - warmKb) / restOpen.openMs.length;
  const barePerStreamKb = (bareFullKb - bareIdleKb) / bareOpen.openMs.length;
  out(`### Live streams: ${live.toLocaleString('en')} through the gateway, embedded mode (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
  out();
  out(`Machine: ${cpuModel}, ${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; load average ${loadAtStart} at the start, ${loadAtEnd} at the end (the machine is shared with other engineers' runs: noisy).`);
  if (streamCount < requestedStreams) out(`**Bounded by open files**: ${requestedStreams.toLocaleString('en')} streams were asked for; the processes may open ${nofile.toLocaleString('en')} files (\`ulimit -n\`, its hard limit here), and the platform's one process holds ${socketsPerStream} sockets per stream, so ${streamCount.toLocaleString('en')} were opened.`);
  out(`One process (\`npm start\`: gateway and the four services, PGlite on a fresh folder), nofile ${nofile}; ${userCount.toLocaleString('en')} accounts signed up and logged in (${signUpSec.toFixed(0)} s, ${signUpConcurrency} at a time), each token on ${streamsPerUser} streams; the platform then started again on the same data before the streams (its RSS without streams is a fresh start's).`);
  out();
  out('| | platform (gateway → notifications, one process) | reference: bare Node SSE proxy → server, one process |');
  out('|---|---|---|');
  out(`| streams open | ${live.toLocaleString('en')} of ${streamCount.toLocaleString('en')} (${restOpen.failed.length + fewOpen.failed.length} failed${restOpen.failed[0] === undefined ? '' : `: ${restOpen.failed[0]}`}) | ${bareOpen.openMs.length.toLocaleString('en')} |`);
  out(`| RSS: fresh start → warm with ${fewStreams} streams → with all of them | ${mb(idleKb)} → ${mb(warmKb)} → ${mb(fullKb)} MB (${mb(fullAfterKb)} MB after the payments) | ${mb(bareIdleKb)} → – → ${mb(bareFullKb)} MB |`);
  out(`| memory per stream (RSS growth over the streams opened after the warm point) | ${perStreamKb.toFixed(1)} KB | ${barePerStreamKb.toFixed(1)} KB |`);
  out(`| open files | ${idleFiles} → ${fullFiles} | – |`);
  out(`| time to open (${openConcurrency} at a time, until each sent its first count) | ${(restOpen.wallMs / 1000).toFixed(1)} s for ${restOpen.openMs.length.toLocaleString('en')} (${(restOpen.openMs.length / (restOpen.wallMs / 1000)).toFixed(0)}/s); one stream p50 ${ms(percentile(restOpen.openMs, 50))} ms, p99 ${ms(percentile(restOpen.openMs, 99))} ms | ${(bareOpen.wallMs / 1000).toFixed(1)} s (${(bareOpen.openMs.length / (bareOpen.wallMs / 1000)).toFixed(0)}/s); p50 ${ms(percentile(bareOpen.openMs, 50))} ms, p99 ${ms(percentile(bareOpen.openMs, 99))} ms |`);
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
