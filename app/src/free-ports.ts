import { randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:net';

// Below the kernel's ephemeral range (32768–60999 on Linux): a port handed out here cannot be
// taken meanwhile by an outgoing connection (a database or HTTP client) before its process binds it.
export const lowest = 10_000;
export const highest = 32_000;
/**
 * Ports in that range that fetch() refuses to connect to ("bad port", the Fetch standard's list:
 * 10080 is Amanda's): a platform given one cannot be called by the tests or by a browser.
 */
export const refusedByFetch: ReadonlySet<number> = new Set([10080]);

/**
 * `count` different ports that were free a moment ago (tests run several platforms side by side).
 * All of them are held until every one is found, so one plan never holds the same port twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const held: Server[] = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < count; attempt++) {
      if (attempt > count * 50) throw new Error(`no ${count} free ports found between ${lowest} and ${highest}`);
      const port = randomInt(lowest, highest);
      if (ports.includes(port) || refusedByFetch.has(port)) continue;
      const server = createServer();
      const bound = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (!bound) continue;
      held.push(server);
      ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
