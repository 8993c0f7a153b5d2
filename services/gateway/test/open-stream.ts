// A live stream opened through the gateway on a connection of its own (fetch would pool it): the
// answer's head, and for a refusal its JSON body. A stream stays open until `close`.
import { request as httpRequest, type IncomingMessage } from 'node:http';

export interface OpenedStream { status: number; body: any; headers: IncomingMessage['headers']; close: () => void }

export function openStream(gatewayUrl: string, options: { token?: string; path?: string } = {}): Promise<OpenedStream> {
  const { hostname, port } = new URL(gatewayUrl);
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path: options.path ?? '/notifications/stream', headers, timeout: 10_000 }, (res) => {
      if (res.statusCode === 200) {
        resolve({ status: 200, body: undefined, headers: res.headers, close: () => req.destroy() });
        return;
      }
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), headers: res.headers, close: () => {} }));
    });
    // Only until the head: an open stream is silent as long as nothing happens.
    req.on('response', () => req.setTimeout(0));
    req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
    req.on('error', reject);
    req.end();
  });
}
