// A real Prometheus (Debian's package) for the tests: it scrapes the given metrics endpoints every
// second with the repository's rules loaded (evaluated every second instead of every 30), in a
// temporary folder, on 127.0.0.1 only, stopped at the end. Absent on a newcomer's machine: the
// suite skips saying why; under REQUIRE_PROMTOOL=1 (.ci/run) a missing binary fails instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const prometheusPath = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
const rulesFile = resolve(import.meta.dirname, '../../deploy/prometheus/rules/paymesh.yml');

export function skipWithoutPrometheus(): string | false {
  if (existsSync(prometheusPath)) return false;
  if (process.env.REQUIRE_PROMTOOL === '1') throw new Error(`REQUIRE_PROMTOOL=1 but there is no prometheus at ${prometheusPath} (apt-get install prometheus, or set PROMETHEUS_PATH)`);
  return `no prometheus at ${prometheusPath}: the live dashboard check is skipped (apt-get install prometheus; CI sets REQUIRE_PROMTOOL=1)`;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export interface QueryResult { readonly status: string; readonly error?: string; readonly data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string] }[] } }

export class LivePrometheus {
  readonly url: string;
  readonly #process: ChildProcess;
  readonly #dir: string;
  #output = '';

  private constructor(url: string, child: ChildProcess, dir: string) {
    this.url = url;
    this.#process = child;
    this.#dir = dir;
    child.stdout?.on('data', (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-20_000)));
    child.stderr?.on('data', (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-20_000)));
  }

  /** Starts Prometheus scraping `targets` (job name → metrics URL) and waits until it is ready. */
  static async start(targets: Readonly<Record<string, string>>): Promise<LivePrometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'paymesh-prometheus-'));
    // The repository's rules, evaluated every second so that a short test sees them recorded.
    writeFileSync(join(dir, 'rules.yml'), readFileSync(rulesFile, 'utf8').replaceAll(/interval: \d+[smh]/g, 'interval: 1s'));
    const jobs = Object.entries(targets).map(([job, url]) => {
      const target = new URL(url);
      return `  - job_name: ${job}\n    metrics_path: ${target.pathname}\n    static_configs:\n      - targets: ['${target.host}']`;
    });
    writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\nscrape_configs:\n${jobs.join('\n')}\n`);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const child = spawn(prometheusPath, [
        `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
      ], { stdio: ['ignore', 'pipe', 'pipe'] });
      const prometheus = new LivePrometheus(`http://127.0.0.1:${port}`, child, dir);
      const exited = once(child, 'exit');
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && child.exitCode === null) {
        const ready = await fetch(`${prometheus.url}/-/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
        if (ready) return prometheus;
        await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
      }
      await prometheus.stop(false);
      // Another process may have taken the port between our check and Prometheus' listen.
      if (attempt < 3 && prometheus.#output.includes('address already in use')) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`prometheus did not become ready within 20 s:\n${prometheus.#output}`);
    }
  }

  get output(): string {
    return this.#output;
  }

  /** An instant query through the HTTP API. */
  async query(expr: string): Promise<QueryResult> {
    const response = await fetch(`${this.url}/api/v1/query`, {
      method: 'POST', body: new URLSearchParams({ query: expr }), signal: AbortSignal.timeout(10_000),
    });
    return await response.json() as QueryResult;
  }

  async stop(removeData = true): Promise<void> {
    if (this.#process.exitCode === null && this.#process.signalCode === null) {
      const exited = once(this.#process, 'exit');
      this.#process.kill('SIGTERM');
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (removeData) rmSync(this.#dir, { recursive: true, force: true });
  }
}
