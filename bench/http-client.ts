// The benchmarks' and the load generator's HTTP client: node:http(s) with a keep-alive agent (what
// a load generator needs: no per-request connection, no fetch overhead), bounded by a timeout.
// `base` may carry a path prefix (https://host/paymesh): requests go under it.
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

export interface SentResponse { readonly status: number; readonly text: string; readonly headers: IncomingHttpHeaders }

export function send(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<SentResponse> {
  const url = new URL(base);
  const secure = url.protocol === 'https:';
  const fullPath = `${url.pathname.replace(/\/$/, '')}${path}`;
  return new Promise((resolvePromise, reject) => {
    const allHeaders = body === undefined ? headers : { 'content-type': 'application/json', ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const options = { host: url.hostname, port: url.port, method, path: fullPath, headers: allHeaders, timeout: 15_000 };
    const onResponse = (res: import('node:http').IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    };
    const req = secure ? httpsRequest({ ...options, agent: httpsAgent }, onResponse) : httpRequest({ ...options, agent }, onResponse);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 15 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

export async function sendJson(base: string, method: string, path: string, options: { token?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any; headers: IncomingHttpHeaders }> {
  const headers: Record<string, string> = { ...options.headers, ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) };
  const response = await send(base, method, path, headers, options.json === undefined ? undefined : JSON.stringify(options.json));
  let body: unknown;
  try {
    body = response.text === '' ? undefined : JSON.parse(response.text);
  } catch {
    body = response.text; // a proxy's HTML error page, say: kept as text for the caller to report
  }
  return { status: response.status, body, headers: response.headers };
}

/** Closes the kept-alive connections, so that the benchmark's process can exit. */
export function closeHttpClient(): void {
  agent.destroy();
  httpsAgent.destroy();
}
