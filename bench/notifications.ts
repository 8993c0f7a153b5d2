// Notifications benchmark: from a committed payment to its notification, visible on the payer's
// live stream and in the payer's inbox, in embedded mode and in distributed mode, in one run.
// - embedded: startEmbedded in this process (PGlite on a temporary data folder, as `npm start`
//   keeps it; the in-process event transport);
// - distributed: startDistributed, one process per service on the machine's PostgreSQL
//   (databases bench_*, dropped at the end) and NATS JetStream (a fresh stream, deleted at the end).
// In each mode a few users each hold GET /notifications/stream open through the gateway; payments
// are made one at a time, round-robin over those users (after a warm-up). For each payment:
// t0 = the POST /payments response arrives (the payment is committed by then); t_stream = the
// stream delivers the `notification` event for that payment; t_inbox = the first
// GET /notifications/ (polled every few ms) that lists it. Beside them, the floors, measured in
// the same run and interleaved with the payments: a trivial request through the gateway
// (GET /notifications/unread_count) and, in distributed mode, a JetStream publish → consume round
// trip on a stream of its own. Results are printed as Markdown for docs/benchmarks.md.
// 127.0.0.1 only; every loop bounded in count and in time.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, StorageType, type ConsumerMessages } from '@nats-io/jetstream';
import { serviceNames, type ServiceName } from '@paymesh/app/ports';
import { startDistributed, type DistributedPlatform } from '@paymesh/app/start-distributed';
import { startEmbedded, type EmbeddedPlatform } from '@paymesh/app/start-embedded';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { sql } from '@paymesh/platform/db/open-database';
import { currentRequestId } from '@paymesh/platform/request-context';
import { deleteStreams } from '@paymesh/platform/events/delete-streams';
import { closeHttpClient, send, sendJson } from './http-client.ts';
import { SseStream } from './sse-stream.ts';
import { machineBusyTicks, procTicks, ticksPerSecond } from './proc-cpu.ts';

const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
const paymentCount = Number(process.env.BENCH_PAYMENTS ?? 1000);
const warmupCount = Number(process.env.BENCH_WARMUP ?? 20);
const userCount = Number(process.env.BENCH_USERS ?? 4);
const pollMs = Number(process.env.BENCH_POLL_MS ?? 5);
const waitMs = Number(process.env.BENCH_WAIT_MS ?? 5_000); // per payment, for the stream and the inbox
const modes = (process.env.BENCH_MODES ?? 'embedded,distributed').split(',').map((m) => m.trim()) as ('embedded' | 'distributed')[];
const embeddedDataRoot = process.env.BENCH_EMBEDDED_DATA_ROOT; // 'memory://' to keep PGlite in memory
const inboxLimit = 5; // the poll asks for the newest 5: its cost does not grow with the inbox
const maxMissed = 10;
const phaseLimitMs = 150_000; // no mode's measured loop runs longer than this

for (const url of [adminUrl, natsUrl]) {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`the benchmark only targets 127.0.0.1, not ${url}`);
}
for (const mode of modes) if (mode !== 'embedded' && mode !== 'distributed') throw new Error(`BENCH_MODES: unknown mode ${mode}`);

// ---- helpers -------------------------------------------------------------------------------------

/** Nearest-rank percentile. */
const percentile = (xs: readonly number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
};
const ms = (x: number) => (Number.isNaN(x) ? '–' : Math.abs(x) < 10 ? x.toFixed(2) : x.toFixed(1));
const sleep = (millis: number) => new Promise((r) => setTimeout(r, millis));


// CPU by process group (proc-cpu.ts).
type CpuSnapshot = { at: number; busy: number; groups: Record<string, number> };
const groupNames = ['this process', 'service processes', 'PostgreSQL', 'NATS server'] as const;
function cpuSnapshot(children: readonly (number | undefined)[]): CpuSnapshot {
  const busy = machineBusyTicks();
  const groups: Record<string, number> = Object.fromEntries(groupNames.map((g) => [g, 0]));
  groups['this process'] = procTicks('self')!.self;
  const ours = new Set(children.filter((pid): pid is number => pid !== undefined));
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procTicks(entry);
    if (stat === undefined) continue;
    if (ours.has(Number(entry))) groups['service processes']! += stat.self;
    else if (stat.comm === 'postgres') groups.PostgreSQL! += stat.self;
    else if (stat.comm === 'nats-server') groups['NATS server']! += stat.self;
  }
  return { at: performance.now(), busy, groups };
}
/** Cores used between two snapshots, by group, and by everything else on the machine. */
function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): { name: string; cores: number }[] {
  const wallSec = (b.at - a.at) / 1000;
  const rows = groupNames.map((name) => ({ name: name as string, cores: (b.groups[name]! - a.groups[name]!) / ticksPerSecond / wallSec }));
  const busy = (b.busy - a.busy) / ticksPerSecond / wallSec;
  return [...rows, { name: 'anything else', cores: Math.max(0, busy - rows.reduce((s, r) => s + r.cores, 0)) }, { name: 'machine total', cores: busy }];
}

// ---- the run --------------------------------------------------------------------------------------

const suffix = randomBytes(3).toString('hex');
const databaseName = (name: string) => `bench_${suffix}_${name}`;
const created: string[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'paymesh-bench-notifications-'));
const platformStream = `BENCH${suffix.toUpperCase()}`;
const floorStream = `BENCH${suffix.toUpperCase()}FLOOR`;
const adminPassword = 'bench-admin-password-0123';
const out = (line = '') => console.log(line);

// Embedded mode alone needs neither PostgreSQL nor NATS.
const serverVersion = modes.includes('distributed') ? await (async () => {
  const pgAdmin = new pg.Client({ connectionString: adminUrl });
  await pgAdmin.connect();
  try {
    return (await pgAdmin.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  } finally {
    await pgAdmin.end();
  }
})() : '(not used)';
const natsVersion = (() => {
  try {
    return execFileSync('nats-server', ['--version'], { timeout: 5_000 }).toString().trim();
  } catch {
    return 'nats-server (version unknown)';
  }
})();
const cpuModel = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'cpu';
const nproc = execFileSync('nproc').toString().trim();
const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(' ');

const streams: SseStream[] = [];
let embedded: EmbeddedPlatform | undefined;
let distributed: DistributedPlatform | undefined;
let natsFloor: { publisher: NatsConnection; consumer: NatsConnection; messages: ConsumerMessages[] } | undefined;
let cleaning: Promise<void> | undefined;
const cleanUp = () => (cleaning ??= (async () => {
  for (const stream of streams) stream.close();
  await embedded?.stop().catch((error: unknown) => console.error('stopping the embedded platform failed:', error));
  await distributed?.stop().catch((error: unknown) => console.error('stopping the distributed platform failed:', error));
  if (natsFloor !== undefined) {
    for (const m of natsFloor.messages) await m.close().catch(() => {});
    await natsFloor.publisher.close().catch(() => {});
    await natsFloor.consumer.close().catch(() => {});
  }
  for (const name of created) await dropDatabase(adminUrl, name).catch((error: unknown) => console.error(`dropping ${name} failed:`, error));
  await (modes.includes('distributed') ? deleteStreams(natsUrl, [platformStream, floorStream]) : Promise.resolve()).catch((error: unknown) => console.error('deleting the NATS streams failed:', error));
  closeHttpClient();
  rmSync(scratch, { recursive: true, force: true });
})());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanUp().finally(() => process.exit(130)));


/**
 * The transport's floor: a JetStream stream of its own, configured as the platform's (file
 * storage, duplicate window, Nats-Msg-Id), a publisher connection and a consumer connection, and
 * the two kinds of consumer the platform uses: a durable pull consumer with explicit ack
 * (NatsTransport.consume: payment.succeeded → notifications) and an ordered consumer
 * (NatsTransport.broadcast: inbox.changed → every notifications replica). One round trip
 * publishes one message and times its PubAck and its arrival at each consumer.
 */
async function openNatsFloor(): Promise<() => Promise<{ ackMs: number; durableMs: number; orderedMs: number }>> {
  const prefix = floorStream.toLowerCase();
  const publisher = await connect({ servers: natsUrl, name: 'bench-floor-publisher' });
  const consumerConnection = await connect({ servers: natsUrl, name: 'bench-floor-consumer' });
  natsFloor = { publisher, consumer: consumerConnection, messages: [] };
  const jsm = await jetstreamManager(publisher);
  await jsm.streams.add({ name: floorStream, subjects: [`${prefix}.>`], storage: StorageType.File, duplicate_window: nanos(10 * 60_000), max_age: nanos(60 * 60_000) });
  await jsm.consumers.add(floorStream, {
    durable_name: 'floor', filter_subject: `${prefix}.floor`, ack_policy: AckPolicy.Explicit, ack_wait: nanos(30_000), deliver_policy: DeliverPolicy.All, max_deliver: -1,
  });
  const js = jetstream(publisher);
  const consumerJs = jetstream(consumerConnection);
  const arrivals = { durable: new Map<number, number>(), ordered: new Map<number, number>() };
  const pump = async (messages: ConsumerMessages, into: Map<number, number>, ack: boolean) => {
    for await (const m of messages) {
      into.set(m.json<{ n: number }>().n, performance.now());
      if (ack) m.ack();
    }
  };
  const durable = await (await consumerJs.consumers.get(floorStream, 'floor')).consume({ max_messages: 64 });
  const ordered = await (await consumerJs.consumers.get(floorStream, {
    filter_subjects: `${prefix}.floor`, deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date().toISOString(),
  })).consume();
  natsFloor.messages.push(durable, ordered);
  void pump(durable, arrivals.durable, true);
  void pump(ordered, arrivals.ordered, false);
  let n = 0;
  return async () => {
    n++;
    const startedAt = performance.now();
    await js.publish(`${prefix}.floor`, JSON.stringify({ n, id: randomUUID(), padding: 'x'.repeat(300) }), { msgID: randomUUID(), timeout: 5_000 });
    const ackMs = performance.now() - startedAt;
    for (let i = 0; i < 5_000 && !(arrivals.durable.has(n) && arrivals.ordered.has(n)); i++) await sleep(i < 200 ? 0 : 1);
    const durableAt = arrivals.durable.get(n);
    const orderedAt = arrivals.ordered.get(n);
    if (durableAt === undefined || orderedAt === undefined) throw new Error(`JetStream floor: message ${n} not consumed within a few seconds`);
    arrivals.durable.delete(n);
    arrivals.ordered.delete(n);
    return { ackMs, durableMs: durableAt - startedAt, orderedMs: orderedAt - startedAt };
  };
}

interface ModeResult {
  mode: 'embedded' | 'distributed';
  postMs: number[];
  streamMs: number[];
  inboxMs: number[];
  /** t0 → the notifications service's transaction (its sent_at), wall clock, ms resolution. */
  writtenMs: number[];
  polls: number[];
  missedStream: number;
  missedInbox: number;
  gatewayMs: number[];
  /** Embedded only: from the commit itself (the payments relay's kick right after it), in this process. */
  fromCommit: { responseMs: number[]; streamMs: number[]; inboxMs: number[] } | undefined;
  nats: { ackMs: number[]; durableMs: number[]; orderedMs: number[] } | undefined;
  wallSec: number;
  cpu: { name: string; cores: number }[];
  startSec: number;
}

async function runMode(mode: 'embedded' | 'distributed'): Promise<ModeResult> {
  const env = {
    ...process.env,
    // Embedded mode logs to this process's stdout, which carries the report: errors only there.
    LOG_LEVEL: process.env.LOG_LEVEL ?? (mode === 'embedded' ? 'error' : 'warn'),
    BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    BOOTSTRAP_ADMIN_PASSWORD_FILE: join(scratch, `admin-${mode}.txt`),
    EMAIL_OUTBOX_DIR: join(scratch, `mail-${mode}`), // each payment's receipt email is written here
    PORT: undefined, DATABASE_URL: undefined, NATS_URL: undefined, AUTH_ISSUER: undefined, PUBLIC_URL: undefined, SERVICE_CLIENTS: undefined,
  };
  const startedAt = performance.now();
  let gatewayUrl: string;
  let children: (number | undefined)[] = [];
  // Embedded mode: the payments service runs in this process, so the moment each payment commits
  // can be read directly: createPayment's transaction kicks the outbox relay as it commits
  // (runtime.ts kicks after every commit that enqueued events), in the request's context (its request id, which the benchmark chooses and the gateway
  // passes on). The relay's own kicks (its 1 s poll, a re-run) have no request of their own or
  // come later, so the first kick seen under a request id is that payment's commit.
  const commits = new Map<string, number>();
  let databaseUrls: Record<ServiceName, string> | undefined;
  if (mode === 'embedded') {
    embedded = await startEmbedded({ env, ports: 'random', dataRoot: embeddedDataRoot ?? join(scratch, 'embedded') });
    gatewayUrl = embedded.gatewayUrl;
    const relay = embedded.services.payments.runtime.relay;
    const kick = relay.kick.bind(relay);
    relay.kick = () => {
      const requestId = currentRequestId();
      if (requestId !== undefined && !commits.has(requestId)) commits.set(requestId, performance.now());
      kick();
    };
  } else {
    databaseUrls = {} as Record<ServiceName, string>;
    for (const name of serviceNames) {
      created.push(databaseName(name));
      databaseUrls[name] = await ensureDatabase(adminUrl, databaseName(name));
    }
    distributed = await startDistributed({ env, databaseUrls, natsUrl, natsStream: platformStream, ports: 'random', logDir: join(scratch, 'logs') });
    gatewayUrl = distributed.gatewayUrl;
    children = Object.values(distributed.processes).map((c) => c.pid);
  }
  const startSec = (performance.now() - startedAt) / 1000;
  const natsRoundTrip = mode === 'distributed' ? await openNatsFloor() : undefined;

  // Users, each with a token and a live stream.
  const users: { id: number; token: string; stream: SseStream }[] = [];
  for (let i = 0; i < userCount; i++) {
    const username = `bench${suffix}${mode.slice(0, 1)}${i}`;
    const password = `bench-password-${suffix}-${i}`;
    const signedUp = await sendJson(gatewayUrl, 'POST', '/users', { json: { username, email: `${username}@example.com`, password } });
    if (signedUp.status !== 202) throw new Error(`sign-up failed: ${signedUp.status} ${JSON.stringify(signedUp.body)}`);
    const login = await sendJson(gatewayUrl, 'POST', '/auth/login', { json: { username, password } });
    if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
    const id = Number((await sendJson(gatewayUrl, 'GET', '/users/me', { token: login.body.token })).body.id);
    // Customers who confirmed their address, as real ones have: each payment's receipt is emailed.
    const confirm = `update users set email_verified_at = now() where id = ${id}`;
    if (embedded !== undefined) await embedded.services.users.runtime.database.db.execute(sql.raw(confirm));
    else {
      const client = new pg.Client({ connectionString: databaseUrls!.users });
      await client.connect();
      await client.query(confirm).finally(() => client.end());
    }
    const stream = new SseStream(gatewayUrl, login.body.token);
    streams.push(stream);
    await stream.ready(10_000);
    users.push({ id, token: login.body.token, stream });
  }

  const result: ModeResult = {
    mode, postMs: [], streamMs: [], inboxMs: [], writtenMs: [], polls: [], missedStream: 0, missedInbox: 0, gatewayMs: [],
    fromCommit: mode === 'embedded' ? { responseMs: [], streamMs: [], inboxMs: [] } : undefined,
    nats: natsRoundTrip === undefined ? undefined : { ackMs: [], durableMs: [], orderedMs: [] }, wallSec: 0, cpu: [], startSec,
  };

  /** Polls the payer's inbox until it lists the payment; the time the listing response arrived. */
  const pollInbox = async (token: string, paymentId: string, deadline: number): Promise<{ at: number; polls: number } | undefined> => {
    const headers = { authorization: `Bearer ${token}` };
    for (let polls = 1; polls <= 10_000 && performance.now() < deadline; polls++) {
      const response = await send(gatewayUrl, 'GET', `/notifications/?limit=${inboxLimit}`, headers);
      const at = performance.now();
      if (response.status !== 200) throw new Error(`GET /notifications/: ${response.status} ${response.text.slice(0, 200)}`);
      if ((JSON.parse(response.text) as { data: { payment_id?: string } }[]).some((n) => n.data.payment_id === paymentId)) return { at, polls };
      await sleep(pollMs);
    }
    return undefined;
  };

  const phaseDeadline = performance.now() + phaseLimitMs;
  let cpuBefore: CpuSnapshot | undefined;
  let measuredFrom = 0;
  for (let i = 0; i < warmupCount + paymentCount; i++) {
    if (performance.now() > phaseDeadline) throw new Error(`${mode}: the measured loop passed ${phaseLimitMs / 1000} s after ${i} payments`);
    const measured = i >= warmupCount;
    if (i === warmupCount) {
      cpuBefore = cpuSnapshot(children);
      measuredFrom = performance.now();
    }
    const user = users[i % users.length]!;
    const requestId = `bench-${suffix}-${mode}-${i}`;
    const headers = { authorization: `Bearer ${user.token}`, 'idempotency-key': randomUUID(), 'x-request-id': requestId };
    const sentAt = performance.now();
    const paid = await send(gatewayUrl, 'POST', '/payments', headers, `{"amount": 12.34, "user_id": ${user.id}}`);
    const t0 = performance.now();
    const t0Wall = Date.now();
    if (paid.status !== 200) throw new Error(`POST /payments: ${paid.status} ${paid.text.slice(0, 200)}`);
    const body = JSON.parse(paid.text) as { id?: string; payment?: { id: string } };
    const paymentId = body.payment?.id ?? body.id;
    if (paymentId === undefined) throw new Error(`POST /payments: no payment id in ${paid.text.slice(0, 200)}`);
    const deadline = t0 + waitMs;
    const [onStream, inInbox] = await Promise.all([user.stream.arrival(paymentId, deadline), pollInbox(user.token, paymentId, deadline)]);
    if (user.stream.failure !== undefined) throw new Error(`${mode}: a stream failed: ${user.stream.failure.message}`);
    if (!measured) continue;
    result.postMs.push(t0 - sentAt);
    if (onStream === undefined) result.missedStream++;
    else {
      result.streamMs.push(onStream.at - t0);
      result.writtenMs.push(onStream.sentAt - t0Wall);
    }
    if (inInbox === undefined) result.missedInbox++;
    else {
      result.inboxMs.push(inInbox.at - t0);
      result.polls.push(inInbox.polls);
    }
    if (result.fromCommit !== undefined) {
      const committedAt = commits.get(requestId);
      if (committedAt === undefined) throw new Error(`embedded: no relay kick seen for request ${requestId}`);
      commits.delete(requestId);
      result.fromCommit.responseMs.push(t0 - committedAt);
      if (onStream !== undefined) result.fromCommit.streamMs.push(onStream.at - committedAt);
      if (inInbox !== undefined) result.fromCommit.inboxMs.push(inInbox.at - committedAt);
    }
    if (result.missedStream + result.missedInbox > maxMissed) throw new Error(`${mode}: more than ${maxMissed} notifications did not arrive within ${waitMs} ms`);
    // The floors, interleaved: whatever else the machine does lands on them and on the payments alike.
    const floorAt = performance.now();
    const count = await send(gatewayUrl, 'GET', '/notifications/unread_count', { authorization: `Bearer ${user.token}` });
    result.gatewayMs.push(performance.now() - floorAt);
    if (count.status !== 200) throw new Error(`GET /notifications/unread_count: ${count.status}`);
    if (natsRoundTrip !== undefined) {
      const trip = await natsRoundTrip();
      result.nats!.ackMs.push(trip.ackMs);
      result.nats!.durableMs.push(trip.durableMs);
      result.nats!.orderedMs.push(trip.orderedMs);
    }
  }
  result.wallSec = (performance.now() - measuredFrom) / 1000;
  result.cpu = cpuBetween(cpuBefore!, cpuSnapshot(children));

  for (const user of users) user.stream.close();
  if (mode === 'embedded') {
    await embedded!.stop();
    embedded = undefined;
  }
  return result;
}

try {
  const results: ModeResult[] = [];
  for (const mode of modes) {
    console.error(`notifications benchmark: ${mode} mode…`);
    results.push(await runMode(mode));
  }

  // ---- report -------------------------------------------------------------------------------------
  const gib = Math.round(totalmem() / 2 ** 30);
  out(`Machine: ${nproc} vCPU (nproc) × ${cpuModel}, ${gib} GiB; PostgreSQL ${serverVersion}; ${natsVersion}; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; load average at start ${loadAtStart}, at end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  out();
  out(`${paymentCount} payments per mode after ${warmupCount} warm-up payments, one at a time (the next is sent once the last one's notification has been seen on the stream and in the inbox), round-robin over ${userCount} users, each with its own stream open through the gateway; the inbox polled every ${pollMs} ms (\`GET /notifications/?limit=${inboxLimit}\`, one poll in flight). Times in ms from t0, the arrival of the POST /payments response.`);
  out();
  out('| mode | what | n | p50 | p95 | p99 | max |');
  out('|---|---|---|---|---|---|---|');
  const row = (mode: string, what: string, xs: number[]) =>
    out(`| ${mode} | ${what} | ${xs.length} | ${ms(percentile(xs, 50))} | ${ms(percentile(xs, 95))} | ${ms(percentile(xs, 99))} | ${ms(Math.max(...xs))} |`);
  for (const r of results) {
    row(r.mode, '`POST /payments` through the gateway (response time, for context)', r.postMs);
    row(r.mode, '**committed → `notification` event on the stream**', r.streamMs);
    row(r.mode, '**committed → listed by `GET /notifications/`**', r.inboxMs);
    row(r.mode, 'committed → the notification\'s transaction (its `sent_at`; 1 ms resolution)', r.writtenMs);
    if (r.fromCommit !== undefined) {
      row(r.mode, 'from the commit itself (the relay\'s kick): → POST response arrives', r.fromCommit.responseMs);
      row(r.mode, 'from the commit itself: → `notification` event on the stream', r.fromCommit.streamMs);
      row(r.mode, 'from the commit itself: → listed by `GET /notifications/`', r.fromCommit.inboxMs);
    }
    row(r.mode, 'floor: `GET /notifications/unread_count` through the gateway', r.gatewayMs);
    if (r.nats !== undefined) {
      row(r.mode, 'floor: JetStream publish → PubAck', r.nats.ackMs);
      row(r.mode, 'floor: JetStream publish → durable pull consumer (explicit ack)', r.nats.durableMs);
      row(r.mode, 'floor: JetStream publish → ordered consumer', r.nats.orderedMs);
    }
  }
  out();
  const goals = { embedded: 100, distributed: 250 } as const;
  for (const r of results) {
    const p99s = { stream: percentile(r.streamMs, 99), inbox: percentile(r.inboxMs, 99) };
    const holds = (x: number) => (x <= goals[r.mode] ? 'holds' : 'MISSED');
    out(`${r.mode}: p99 ${ms(p99s.stream)} ms to the stream (${holds(p99s.stream)}), ${ms(p99s.inbox)} ms to the inbox (${holds(p99s.inbox)}); goal ≤ ${goals[r.mode]} ms. ` +
      (r.fromCommit === undefined ? '' : `From the commit itself: p99 ${ms(percentile(r.fromCommit.streamMs, 99))} ms to the stream, ${ms(percentile(r.fromCommit.inboxMs, 99))} ms to the inbox. `) +
      `Not seen within ${waitMs} ms: ${r.missedStream} on the stream, ${r.missedInbox} in the inbox. Polls until listed: median ${percentile(r.polls, 50)}, max ${Math.max(...r.polls)}. ` +
      `Start-up ${r.startSec.toFixed(1)} s; measured loop ${r.wallSec.toFixed(1)} s.`);
  }
  out();
  const buckets = [10, 25, 50, 100, 250, 500, 1000, Number.POSITIVE_INFINITY];
  const bucketLabel = (i: number) => (i === 0 ? `< ${buckets[0]}` : buckets[i] === Number.POSITIVE_INFINITY ? `≥ ${buckets[i - 1]}` : `${buckets[i - 1]}–${buckets[i]}`);
  out('How the latencies spread (count of payments per bucket, ms; a relay that waited for its 1 s poll would show up at ≥ 1000):');
  out();
  out(`| mode | what | ${buckets.map((_, i) => bucketLabel(i)).join(' | ')} |`);
  out(`|---|---|${buckets.map(() => '---|').join('')}`);
  for (const r of results) {
    for (const [what, xs] of [['stream', r.streamMs], ['inbox', r.inboxMs]] as const) {
      const counts = buckets.map((upper, i) => xs.filter((x) => x < upper && (i === 0 || x >= buckets[i - 1]!)).length);
      out(`| ${r.mode} | ${what} | ${counts.join(' | ')} |`);
    }
  }
  out();
  out('CPU during each measured loop, in cores (from /proc; in embedded mode the whole platform runs in this process):');
  out();
  out(`| process | ${results.map((r) => r.mode).join(' | ')} |`);
  out(`|---|${results.map(() => '---|').join('')}`);
  for (const name of results[0]!.cpu.map((c) => c.name)) out(`| ${name} | ${results.map((r) => (r.cpu.find((c) => c.name === name)?.cores ?? 0).toFixed(2)).join(' | ')} |`);
} finally {
  await cleanUp();
}
