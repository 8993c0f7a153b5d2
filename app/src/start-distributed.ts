// Distributed mode on one machine: each service its own process with its own DATABASE_URL and
// the shared NATS_URL, the gateway a process too: the same processes a cluster runs, one per pod.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { gatewayEnv, planPorts, runSecrets, serviceEnv, serviceNames, type PortPlan, type ServiceName } from './ports.ts';

const repoRoot = resolve(import.meta.dirname, '../..');

export interface DistributedOptions {
  readonly env?: Record<string, string | undefined>;
  readonly databaseUrls: Record<ServiceName, string>;
  readonly natsUrl: string;
  readonly natsStream?: string;
  readonly ports?: 'default' | 'random';
  /** Where each process's log goes (`<dir>/<service>.log`); unset means inherited stdout. */
  readonly logDir?: string;
  readonly readyTimeoutMs?: number;
  /** Told of every process that ends, as a supervisor (Kubernetes) would be; `restart` relaunches it. */
  readonly onExit?: (name: ServiceName | 'gateway', code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface DistributedPlatform {
  readonly gatewayUrl: string;
  readonly plan: PortPlan;
  readonly processes: Record<ServiceName | 'gateway', ChildProcess>;
  /**
   * Starts one process again (after it exited) with the environment it had, plus `env` when given
   * (a benchmark comparing a setting), once it is ready.
   */
  restart(name: ServiceName | 'gateway', readyTimeoutMs?: number, env?: Record<string, string | undefined>): Promise<void>;
  stop(): Promise<void>;
}

export async function startDistributed(options: DistributedOptions): Promise<DistributedPlatform> {
  const base = runSecrets(options.env ?? process.env);
  const plan = await planPorts(options.ports ?? 'default', base.PORT === undefined ? undefined : Number(base.PORT));
  if (options.logDir !== undefined) await mkdir(options.logDir, { recursive: true });
  const processes = {} as Record<ServiceName | 'gateway', ChildProcess>;
  const envs = {} as Record<ServiceName | 'gateway', Record<string, string | undefined>>;
  const launch = (name: ServiceName | 'gateway', env: Record<string, string | undefined>) => {
    const child = spawn(process.execPath, [resolve(repoRoot, 'services', name, 'src/main.ts')], {
      env: env as NodeJS.ProcessEnv,
      stdio: ['ignore', options.logDir === undefined ? 'inherit' : 'pipe', options.logDir === undefined ? 'inherit' : 'pipe'],
    });
    if (options.logDir !== undefined) {
      // Appended: a restarted process (after a crash) keeps its predecessor's log.
      const log = createWriteStream(resolve(options.logDir, `${name}.log`), { flags: 'a' });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
    }
    child.once('exit', (code, signal) => options.onExit?.(name, code, signal));
    processes[name] = child;
    envs[name] = env;
    return child;
  };
  const stop = async () => {
    await Promise.all(Object.values(processes).map((child) => new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
    })));
  };
  try {
    for (const name of serviceNames) {
      launch(name, serviceEnv(plan, name, { ...base, DATABASE_URL: options.databaseUrls[name], NATS_URL: options.natsUrl, NATS_STREAM: options.natsStream ?? base.NATS_STREAM }));
    }
    launch('gateway', gatewayEnv(plan, base));
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (const name of serviceNames) await waitReady(`http://127.0.0.1:${plan.http[name]}/readyz`, processes[name], deadline);
    await waitReady(`http://127.0.0.1:${plan.gateway}/readyz`, processes.gateway, deadline);
  } catch (error) {
    await stop();
    throw error;
  }
  const restart = async (name: ServiceName | 'gateway', readyTimeoutMs = 60_000, env: Record<string, string | undefined> = {}) => {
    const previous = processes[name];
    if (previous.exitCode === null && previous.signalCode === null) throw new Error(`${name} is still running`);
    const child = launch(name, { ...envs[name], ...env });
    const port = name === 'gateway' ? plan.gateway : plan.http[name];
    await waitReady(`http://127.0.0.1:${port}/readyz`, child, Date.now() + readyTimeoutMs);
  };
  return { gatewayUrl: `http://127.0.0.1:${plan.gateway}`, plan, processes, restart, stop };
}

async function waitReady(url: string, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready in time`);
}
