// Running podman (and podman-compose) the way this machine needs: runc as the runtime (crun refuses
// some hosts' cgroup layout) and container ulimits within this process's own hard limits (podman's
// defaults ask for more, which fails without CAP_SYS_RESOURCE). Both go in a containers.conf that
// every podman command of `npm run images` and the image tests reads through CONTAINERS_CONF.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** This process's hard limit of one resource of /proc/self/limits ("Max open files"…). */
function hardLimit(resource: 'Max open files' | 'Max processes'): number {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(resource));
  const hard = line?.slice(resource.length).trim().split(/\s+/)[1];
  if (hard === undefined) throw new Error(`no "${resource}" in /proc/self/limits`);
  return hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hard);
}

/**
 * containers.conf contents for this machine: 65536 open files and 4096 processes per container,
 * or less when this process may not grant that many (a container cannot get more than its parent).
 */
export function containersConf(): string {
  const nofile = Math.min(65_536, hardLimit('Max open files'));
  const nproc = Math.min(4_096, hardLimit('Max processes'));
  return [
    '# Written by scripts/images/podman.ts for npm run images and the image tests.',
    '[containers]',
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
    '[engine]',
    'runtime = "runc"',
    '',
  ].join('\n');
}

let environment: Promise<NodeJS.ProcessEnv> | undefined;

/** process.env plus CONTAINERS_CONF naming our containers.conf (written once per process). */
export function podmanEnv(): Promise<NodeJS.ProcessEnv> {
  environment ??= (async () => {
    const folder = join(tmpdir(), 'paymesh-podman');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'containers.conf');
    writeFileSync(file, containersConf());
    return { ...process.env, CONTAINERS_CONF: file };
  })();
  return environment;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command with podmanEnv(); resolves with its exit code and output, never rejects on a
 * non-zero exit (callers decide). `echo` streams its output to ours as it comes (long builds).
 */
export async function runCommand(command: string, args: readonly string[], options: { echo?: boolean; input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
  const env = { ...(await podmanEnv()), ...options.env };
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.echo === true) process.stdout.write(chunk);
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.echo === true) process.stderr.write(chunk);
    });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr });
    });
    if (options.input !== undefined) {
      // A command that exits without reading its input is not an error of ours.
      child.stdin!.on('error', () => {});
      child.stdin!.end(options.input);
    }
  });
}

/** podman with our containers.conf; throws with podman's own message when it fails. */
export async function podman(args: readonly string[], options: { echo?: boolean; timeoutMs?: number } = {}): Promise<string> {
  const result = await runCommand('podman', args, options);
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited with ${result.code}: ${result.stderr.trim().split('\n').slice(-5).join('\n')}`);
  return result.stdout;
}

export async function imageExists(name: string): Promise<boolean> {
  return (await runCommand('podman', ['image', 'exists', name])).code === 0;
}

/** Whether a command is on PATH (podman, buildah, debootstrap…). */
export async function hasCommand(name: string): Promise<boolean> {
  return (await runCommand('sh', ['-c', `command -v ${name}`])).code === 0;
}
