// Start-up benchmark for `npm start`: time until the platform is ready (also less the time its
// main thread waited for a core, and the CPU it used) and its RSS then and five seconds later, on
// a fresh data folder (first start) and on the same folder again (every later start), then the
// graceful stop on SIGINT. Beside it, in the same run, the floor of embedded mode: a bare Node
// process that only opens the same PGlite cluster (docs/adr/0029-embedded-databases.md). Results
// are printed as a Markdown table for docs/benchmarks.md.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const runs = Number(process.env.BENCH_RUNS ?? 3);

interface Sample { readyMs: number; queuedMs: number; cpuMs: number; rssMb: number; settledRssMb: number; peakRssMb: number; stopMs: number }

function rssOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(key)) ?? '')?.[1] ?? 0);
  return { rssMb: Math.round(kb('VmRSS:') / 1024), peakRssMb: Math.round(kb('VmHWM:') / 1024) };
}

/**
 * CPU time the process and its ended children (initdb's) used so far: on a machine shared with
 * other work the wall time to ready stretches with the load, this does much less.
 */
function cpuOf(pid: number): number {
  // Fields 14-17 of /proc/<pid>/stat (utime, stime, cutime, cstime) in ticks of 10 ms (Linux's
  // USER_HZ), counted after the command name's closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) * 10;
}

/**
 * How long the process's main thread has waited, runnable, for a core (/proc/<pid>/schedstat's
 * second field): on a machine shared with other work, the wall time to ready less this is about
 * what the start would take with the cores to itself (the main thread does most of a start).
 */
function queuedOf(pid: number): number {
  return Math.round(Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6);
}

function startOnce(script: string, args: string[], env: Record<string, string>): Promise<Sample> {
  return new Promise((resolvePromise, reject) => {
    const startedAt = performance.now();
    const child = spawn(process.execPath, [script, ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buffer = '';
    // What the start said last, for the error when it never gets ready.
    let said = '';
    child.stderr.on('data', (chunk: Buffer) => {
      said = (said + chunk.toString()).slice(-2_000);
    });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} not ready within 60 s; it said:\n${said}`)); }, 60_000);
    let ready = false;
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${script} ended before it was ready (${signal ?? `code ${code}`}); it said:\n${said}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (ready || !buffer.includes('"ready":true')) return;
      ready = true;
      buffer = '';
      const readyMs = Math.round(performance.now() - startedAt);
      const { rssMb } = rssOf(child.pid!);
      const cpuMs = cpuOf(child.pid!);
      const queuedMs = queuedOf(child.pid!);
      // The budget's figure: what the platform holds once it has started (issue 18).
      setTimeout(() => {
        const settled = rssOf(child.pid!);
        const stopAt = performance.now();
        child.once('exit', (code) => {
          clearTimeout(timer);
          if (code !== 0) reject(new Error(`${script} exited with code ${code}, signal ${child.signalCode}`));
          else resolvePromise({ readyMs, queuedMs, cpuMs, rssMb, settledRssMb: settled.rssMb, peakRssMb: settled.peakRssMb, stopMs: Math.round(performance.now() - stopAt) });
        });
        child.kill('SIGINT');
      }, 5_000);
    });
  });
}

const floorScript = join(root, 'bench/pglite-floor.ts');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: string[] = [];
const measure = async (label: string, script: string, args: (dir: string) => string[], env: (dir: string) => Record<string, string>) => {
  const cold: Sample[] = [];
  const warm: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'paymesh-bench-'));
    try {
      cold.push(await startOnce(script, args(dir), env(dir)));
      warm.push(await startOnce(script, args(dir), env(dir)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const [kind, samples] of [['first start', cold], ['later start', warm]] as const) {
    rows.push(`| ${label} | ${kind} | ${median(samples.map((s) => s.readyMs))} | ${median(samples.map((s) => s.readyMs - s.queuedMs))} | ${median(samples.map((s) => s.cpuMs))} | ${median(samples.map((s) => s.rssMb))} | ${median(samples.map((s) => s.settledRssMb))} | ${median(samples.map((s) => s.peakRssMb))} | ${median(samples.map((s) => s.stopMs))} |`);
  }
};

await measure('`npm start` (whole platform)', join(root, 'scripts/start.ts'), () => [], (dir) => ({
  PAYMESH_READY_LINE: '1', PAYMESH_DATA_ROOT: dir, PAYMESH_PORTS: 'random', PORT: '0', LOG_LEVEL: 'warn',
  BOOTSTRAP_ADMIN_PASSWORD: 'bench-admin-password',
}));
await measure('floor: the bare PGlite cluster', floorScript, (dir) => [dir], () => ({}));

console.log(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}; median of ${runs} runs`);
console.log('');
console.log('| what | start | ready (ms) | ready less waits for a core (ms) | CPU to ready (ms) | RSS at ready (MB) | RSS 5 s after ready (MB) | peak RSS (MB) | SIGINT → exit (ms) |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
