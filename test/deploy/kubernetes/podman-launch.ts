// The manifest-driven launch, second half: the run specs of podman-run.ts started with podman on
// one network, each container's startup then readiness probe polled as the manifest names them,
// and a stop as the kubelet does it (the preStop pause, SIGTERM, SIGKILL after the grace period),
// reporting each container's exit code.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envFileText, type RunSpec } from './podman-run.ts';

export interface PodmanOptions {
  /** The environment podman runs with (this machine: CONTAINERS_CONF naming runc and ulimits). */
  readonly env?: NodeJS.ProcessEnv;
  /** Arguments given to every `podman run` before the spec's (host specifics, e.g. `--runtime runc`). */
  readonly extraRunArgs?: readonly string[];
}

export async function podman(args: readonly string[], options: PodmanOptions = {}, timeoutMs = 120_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('podman', args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

async function must(args: readonly string[], options: PodmanOptions, timeoutMs?: number): Promise<string> {
  const result = await podman(args, options, timeoutMs);
  if (result.code !== 0) throw new Error(`podman ${args.slice(0, 2).join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

export interface LaunchedPods {
  /** Each container's logs so far, by Deployment name. */
  logs(name: string): Promise<string>;
  /** Stops every container as the kubelet would and returns their exit codes. */
  stop(): Promise<Record<string, number>>;
}

/** Starts every spec, then waits for each one's startup and readiness probes (in order of `specs`). */
export async function launchPods(specs: readonly RunSpec[], options: PodmanOptions = {}): Promise<LaunchedPods> {
  const secretsDir = await mkdtemp(join(tmpdir(), 'paymesh-launch-'));
  await chmod(secretsDir, 0o700);
  const started: RunSpec[] = [];
  const launched: LaunchedPods = {
    logs: async (name) => {
      const result = await podman(['logs', started.find((s) => s.name === name)?.container ?? name], options);
      return result.stdout + result.stderr;
    },
    stop: async () => {
      const codes: Record<string, number> = {};
      await Promise.all(started.map(async (spec) => {
        // preStop runs before the signal, within the grace period.
        await new Promise((r) => setTimeout(r, spec.preStopSleepSec * 1000));
        await podman(['stop', '--time', String(Math.max(1, spec.gracePeriodSec - spec.preStopSleepSec)), spec.container], options, (spec.gracePeriodSec + 30) * 1000);
        codes[spec.name] = Number((await must(['inspect', '--format', '{{.State.ExitCode}}', spec.container], options)).trim());
      }));
      await Promise.all(started.map((spec) => podman(['rm', '--force', spec.container], options)));
      await rm(secretsDir, { recursive: true, force: true });
      return codes;
    },
  };
  try {
    for (const spec of specs) {
      const envFile = join(secretsDir, `${spec.name}.env`);
      await writeFile(envFile, envFileText(spec.env), { mode: 0o600 });
      await must(['run', ...(options.extraRunArgs ?? []), '--env-file', envFile, ...spec.args], options);
      started.push(spec);
    }
    for (const spec of specs) {
      for (const kind of ['startup', 'readiness'] as const) {
        const probe = spec.probes.find((p) => p.kind === kind);
        if (probe !== undefined) await pollProbe(spec.name, probe, () => launched.logs(spec.name));
      }
    }
  } catch (error) {
    await launched.stop().catch(() => undefined);
    throw error;
  }
  return launched;
}

/** Polls a probe every periodMs until it succeeds, or fails after failureThreshold failures. */
async function pollProbe(name: string, probe: RunSpec['probes'][number], logs: () => Promise<string>): Promise<void> {
  let last = '';
  for (let failures = 0; failures < probe.failureThreshold; failures++) {
    try {
      const response = await fetch(probe.url, { signal: AbortSignal.timeout(probe.timeoutMs) });
      if (response.status >= 200 && response.status < 400) return;
      last = `status ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((r) => setTimeout(r, probe.periodMs));
  }
  throw new Error(`${name}: ${probe.kind} probe ${probe.url} failed ${probe.failureThreshold} times (last: ${last})\n${await logs()}`);
}
