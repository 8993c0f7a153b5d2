// A NATS JetStream server of our own (the fault runner's, tests'), in a temporary folder on a free loopback port:
// stopping or killing it never touches the machine's broker on 4222. It is started again on the
// same port and store folder, as a restarted pod would be.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePorts } from './free-ports.ts';

export const natsServerBinary = '/usr/sbin/nats-server';

export interface NatsServer {
  readonly url: string;
  /** Ends it with a signal (SIGTERM: a clean stop; SIGKILL: a crash) and waits for the exit. */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and store, once it accepts connections. */
  start(): Promise<void>;
}

export async function startNatsServer(dir: string): Promise<NatsServer> {
  if (!existsSync(natsServerBinary)) throw new Error(`nats-server not found at ${natsServerBinary}`);
  const [port] = await freePorts(1);
  const log = createWriteStream(join(dir, 'nats.log'), { flags: 'a' });
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(natsServerBinary, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', join(dir, 'nats')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.pipe(log, { end: false });
    child.stderr!.pipe(log, { end: false });
    await waitForPort(port!, child, 30_000);
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    async stop(signal) {
      const running = child;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      await new Promise<void>((done) => {
        running.once('exit', () => done());
        running.kill(signal);
      });
    },
    start,
  };
}

/** Polls until something accepts TCP connections on the port (bounded by the deadline). */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process on port ${port} exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); done(true); });
      socket.once('error', () => done(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}
