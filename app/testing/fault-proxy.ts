// A loopback TCP proxy that tests put between a service and its PostgreSQL or NATS, to make the
// faults of a restart happen without touching the machine's servers: `cut()` resets every open
// connection (what a crash or a restart does to them), `refuse()` also closes the listener (the
// server is down: new connections are refused), `restore()` listens again on the same port.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { freePorts } from '../src/free-ports.ts';

export class FaultProxy {
  readonly port: number;
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;

  private constructor(port: number, target: { host: string; port: number }) {
    this.port = port;
    this.#target = target;
  }

  /** Listens on a free loopback port and forwards to `target` (`127.0.0.1:5432`, say). */
  static async start(target: { host?: string; port: number }): Promise<FaultProxy> {
    const [port] = await freePorts(1);
    const proxy = new FaultProxy(port!, { host: target.host ?? '127.0.0.1', port: target.port });
    await proxy.restore();
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  /** Resets every connection open through the proxy; new ones are still accepted. */
  cut(): void {
    for (const socket of this.#sockets) socket.resetAndDestroy();
    this.#sockets.clear();
  }

  /** Resets every connection and stops listening: connecting is refused until `restore()`. */
  async refuse(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.cut();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again (after `refuse()`); a no-op while listening. */
  async restore(): Promise<void> {
    if (this.#server !== undefined) return;
    const server = createServer((client) => {
      const upstream = connect(this.#target.port, this.#target.host);
      this.#sockets.add(client);
      this.#sockets.add(upstream);
      const forget = () => {
        this.#sockets.delete(client);
        this.#sockets.delete(upstream);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', forget).on('close', forget);
      upstream.on('error', () => client.resetAndDestroy()).on('close', forget);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  async close(): Promise<void> {
    await this.refuse();
  }
}
