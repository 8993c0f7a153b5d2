// `npm test`: every test file, in lanes, several lanes at a time. A lane is one process running its
// files one after another (scripts/test-lane.ts): the services' files share lanes, so the platform
// is imported and compiled once per lane instead of once per file (about 1.5 s of CPU a file);
// the files under test/ (tracing, which installs process-wide hooks, the browser, the images, the
// process metrics) keep a process each. The longest lanes start first, so that no long lane
// starts last and runs alone while the machine idles. Node's compile cache (node_modules/.cache)
// keeps the TypeScript each process strips and compiles, so only the first lane pays for it.
//
//   npm test                                   the whole suite
//   npm test -- services/payments/test/refunds.test.ts ...   some files
//   TEST_CONCURRENCY=1 npm test                one lane at a time
//   TEST_LANE_LIMIT_SECONDS=600 npm test       stop a lane after this long (default: 10 × its usual time, ≥ 10 min)
//   TEST_TIMES=times.json npm test             also writes each file's seconds and its lane process's CPU
//                                              seconds meanwhile (to update `seconds` below; a suite declared
//                                              by a helper counts under the helper's file)
import { spawn } from 'node:child_process';
import { globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LaneResult } from './test-lane.ts';

const root = resolve(import.meta.dirname, '..');
const patterns = ['packages/*/test/*.test.ts', 'app/test/*.test.ts', 'services/*/test/*.test.ts', 'test/*.test.ts', 'test/browser/*.test.ts', 'test/deploy/*.test.ts', 'test/observability/*.test.ts'];

// Seconds of the longer files, the longer of two runs on node-svc (TEST_TIMES, 2026-12-06): on
// PGlite alone, and with PostgreSQL and NATS as .ci/run runs it; a file not named here counts as
// `usualSeconds`. Only the order and the lanes' balance depend on them; a name that matches no
// file is an error.
const seconds: Record<string, number> = {
  'services/payments/test/ledger-model.test.ts': 110,
  'services/payments/test/ledger-model-postgres.test.ts': 90,
  'services/notifications/test/live-token-end.test.ts': 83,
  'services/notifications/test/webhook-retries.test.ts': 41,
  'services/auth/test/account-revocation.test.ts': 41,
  'test/deploy/compose.test.ts': 40,
  'services/notifications/test/push-devices.test.ts': 35,
  'services/auth/test/login-throttle.test.ts': 34,
  'test/graceful-shutdown.test.ts': 34,
  'services/payments/test/wallet.test.ts': 33,
  'test/browser/api-reference.test.ts': 33,
  'test/browser/web-inbox.test.ts': 31,
  'services/payments/test/idempotency-lease.test.ts': 29,
  'app/test/embedded-databases.test.ts': 28,
  'services/payments/test/idempotency-everywhere.test.ts': 28,
  'services/users/test/administration.test.ts': 28,
  'test/broker-restart.test.ts': 27,
  'test/browser/web-account.test.ts': 26,
  'test/docs.test.ts': 24,
  'test/deploy/kubernetes-podman.test.ts': 23,
  'services/auth/test/authorization-code.test.ts': 21,
  'test/observability/dashboards-live.test.ts': 21,
  'test/browser/sign-in.test.ts': 20,
  'test/browser/web-sign-in.test.ts': 14,
  'test/browser/web-pay.test.ts': 27,
  'test/browser/web-journey.test.ts': 50,
  'test/browser/web-screenshots.test.ts': 33,
  'test/browser/web-admin.test.ts': 25,
  'services/auth/test/api-reference-client.test.ts': 20,
  'services/notifications/test/live.test.ts': 20,
  'services/users/test/account-links.test.ts': 20,
  'services/users/test/accounts.test.ts': 19,
  'services/users/test/authorization-matrix.test.ts': 18,
  'services/auth/test/key-rotation.test.ts': 18,
  'services/users/test/registration.test.ts': 18,
  'test/observability/prometheus-rules.test.ts': 18,
  'services/payments/test/lifecycle.test.ts': 17,
  'test/sdk-examples.test.ts': 20,
  'packages/sdk/test/token-providers.test.ts': 14,
  'packages/sdk/test/inbox-stream.test.ts': 12,
};
const usualSeconds = 8;
/** A lane of services' files holds about this many seconds of them. */
const laneSeconds = 60;

const given = process.argv.slice(2);
const all = given.length > 0 ? given : patterns.flatMap((pattern) => globSync(pattern, { cwd: root })).sort();
for (const file of Object.keys(seconds)) {
  if (given.length === 0 && !all.includes(file)) throw new Error(`scripts/test.ts: ${file} (in seconds) is not a test file`);
}
const weight = (file: string) => seconds[file] ?? usualSeconds;
const ownProcess = (file: string) => file.startsWith('test/');

// The shared lanes, filled longest file first into the lightest lane; a file of a lane's length or
// more runs alone.
const shared = all.filter((file) => !ownProcess(file) && weight(file) < laneSeconds).sort((a, b) => weight(b) - weight(a));
const laneCount = Math.ceil(shared.reduce((sum, file) => sum + weight(file), 0) / laneSeconds);
const lanes: string[][] = Array.from({ length: laneCount }, () => []);
const load = (lane: string[]) => lane.reduce((sum, file) => sum + weight(file), 0);
for (const file of shared) lanes.reduce((lightest, lane) => (load(lane) < load(lightest) ? lane : lightest)).push(file);
for (const file of all) if (!shared.includes(file)) lanes.push([file]);
lanes.sort((a, b) => load(b) - load(a));

// Several lanes per core: most of a test's time is spent waiting (for a stream, a retry, a timer).
const concurrency = Number(process.env.TEST_CONCURRENCY ?? availableParallelism() + 2);
if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new Error(`TEST_CONCURRENCY must be a positive integer, not ${process.env.TEST_CONCURRENCY}`);
process.env.NODE_COMPILE_CACHE ??= resolve(root, 'node_modules/.cache/node-compile-cache');

const results = mkdtempSync(join(tmpdir(), 'paymesh-test-'));
const total: LaneResult = { counts: { tests: 0, suites: 0, passed: 0, failed: 0, cancelled: 0, skipped: 0, todo: 0 }, fileSeconds: {}, fileCpuSeconds: {}, failures: [] };
const started = performance.now();

/** How long a lane may run: ten times what its files usually take, and at least 10 minutes (TEST_LANE_LIMIT_SECONDS sets it). */
function laneLimitMs(files: readonly string[]): number {
  if (process.env.TEST_LANE_LIMIT_SECONDS !== undefined) return Number(process.env.TEST_LANE_LIMIT_SECONDS) * 1000;
  return Math.max(10 * 60_000, 10 * files.reduce((sum, file) => sum + weight(file), 0) * 1000);
}

/** Runs one lane; prints its output once it ends, so that lanes running side by side do not interleave. */
async function runLane(files: string[], index: number): Promise<void> {
  const resultPath = join(results, `lane-${index}.json`);
  const child = spawn(process.execPath, [resolve(root, 'scripts/test-lane.ts'), ...files], { cwd: root, env: { ...process.env, PAYMESH_TEST_LANE_RESULT: resultPath }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  // A lane ends when its process has nothing left to do: a file that leaves a handle open (a
  // server, a socket) or a test that never settles would hold it, and the run, forever.
  const limitMs = laneLimitMs(files);
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, limitMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.on('close', (c, s) => done([c, s])));
  clearTimeout(watchdog);
  process.stdout.write(Buffer.concat(output));
  if (timedOut) {
    process.stdout.write(`✖ lane of ${files.join(', ')} was stopped after ${Math.round(limitMs / 1000)} s: a test hangs, or a file left a handle open (a server, a socket, a timer)\n`);
    total.counts.failed += 1;
    total.failures.push(...files.map((file) => `${file} (its lane was stopped after ${Math.round(limitMs / 1000)} s)`));
    return;
  }
  let result: LaneResult;
  try {
    result = JSON.parse(readFileSync(resultPath, 'utf8')) as LaneResult;
  } catch {
    // The lane died before it could count (a crash, a kill): every file in it fails.
    process.stdout.write(`✖ lane of ${files.join(', ')} ended with ${signal ?? `exit code ${code}`} before reporting\n`);
    total.counts.failed += 1;
    total.failures.push(...files.map((file) => `${file} (its lane ended with ${signal ?? `exit code ${code}`})`));
    return;
  }
  for (const key of Object.keys(total.counts) as (keyof LaneResult['counts'])[]) total.counts[key] += result.counts[key] ?? 0;
  Object.assign(total.fileSeconds, result.fileSeconds);
  Object.assign(total.fileCpuSeconds, result.fileCpuSeconds);
  total.failures.push(...result.failures);
}

let next = 0;
await Promise.all(Array.from({ length: Math.min(concurrency, lanes.length) }, async () => {
  while (next < lanes.length) {
    const index = next++;
    await runLane(lanes[index]!, index);
  }
}));
rmSync(results, { recursive: true, force: true });

const { counts } = total;
process.stdout.write([
  `ℹ files ${all.length} in ${lanes.length} lanes`,
  `ℹ tests ${counts.tests}`, `ℹ suites ${counts.suites}`, `ℹ pass ${counts.passed}`, `ℹ fail ${counts.failed}`,
  `ℹ cancelled ${counts.cancelled}`, `ℹ skipped ${counts.skipped}`, `ℹ todo ${counts.todo}`,
  `ℹ duration_ms ${Math.round(performance.now() - started)}`,
].join('\n') + '\n');
if (total.failures.length > 0) process.stdout.write(`\n✖ failing tests:\n${total.failures.map((failure) => `  ${failure}`).join('\n')}\n`);
if (process.env.TEST_TIMES !== undefined) {
  const sorted = Object.fromEntries(Object.entries(total.fileSeconds).sort(([, a], [, b]) => b - a)
    .map(([file, s]) => [file, { seconds: Math.round(s), cpuSeconds: Math.round(total.fileCpuSeconds[file] ?? 0) }]));
  writeFileSync(process.env.TEST_TIMES, JSON.stringify(sorted, null, 2) + '\n');
}
if (counts.failed > 0 || counts.cancelled > 0) process.exitCode = 1;
