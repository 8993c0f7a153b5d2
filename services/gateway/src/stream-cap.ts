// Live streams (SSE) hold a connection each for as long as the client likes. The notifications
// service caps them per account; this caps them per client address at the edge, so one host
// cannot hold thousands of connections with many accounts (or none: the cap counts before auth).
import type { HttpServer } from '@paymesh/platform/http-server';
import { sendError } from '@paymesh/platform/http-server';
import { gatewayErrors } from './errors.ts';

export function capStreamsPerAddress(app: HttpServer, streamPaths: readonly string[], maxPerAddress: number): void {
  const open = new Map<string, number>();
  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0]!.replace(/\/$/, '');
    if (request.method !== 'GET' || !streamPaths.includes(path)) return;
    const address = request.ip;
    const count = open.get(address) ?? 0;
    if (count >= maxPerAddress) return sendError(reply, gatewayErrors.tooManyStreamsFromAddress(5));
    open.set(address, count + 1);
    // Released when the connection to the client ends, whoever ends it (client, upstream, shutdown).
    reply.raw.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
