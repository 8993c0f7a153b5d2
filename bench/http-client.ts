// The benchmarks' HTTP client: node:http with a keep-alive agent (what a load generator needs:
// no per-request connection, no fetch overhead), bounded by a timeout.
import { Agent, request as httpRequest } from 'node:http';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

export function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  const url = new URL(base);
  return new Promise((resolvePromise, reject) => {
    const allHeaders = body === undefined ? headers : { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers: allHeaders, agent, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 15 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function sendJson(base: string, method: string, path: string, options: { token?: string; json?: unknown } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
  const response = await send(base, method, path, headers, options.json === undefined ? undefined : JSON.stringify(options.json));
  return { status: response.status, body: response.text === '' ? undefined : JSON.parse(response.text) };
}

/** Closes the kept-alive connections, so that the benchmark's process can exit. */
export function closeHttpClient(): void {
  agent.destroy();
}
