// Live streams (SSE) hold a connection each for as long as the client likes. The notifications
// service caps them per account; the gateway caps them per client address, so one host cannot
// hold thousands of connections with many accounts (or none: the cap counts before auth), and per
// gateway replica, so that the streams stay within what the replica was sized for (file
// descriptors, memory). They go through an agent of their own, never through the API's pools
// (upstream-pool.ts): however many are open, API requests find their connections
// (docs/adr/0028-gateway-pools-and-stream-budget.md).
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '@paymesh/platform/http-server';
import { gatewayErrors } from './errors.ts';

const retryAfterSec = 5;

export interface StreamCap {
  /** The stream route's preHandler: refuses a stream past a cap before the proxy is asked, else counts it until its connection closes. */
  readonly admit: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  /** The streams' own connections to notifications, one each. No socket cap: `admit` is the bound (an agent's cap is a queue without a time limit). */
  readonly agents: { 'http:': Agent; 'https:': HttpsAgent };
  readonly open: () => number;
  /** Closes their connections: called once the gateway's server has closed. */
  readonly close: () => void;
}

export function capStreams(limits: { perAddress: number; perGateway: number; onFull: () => void }): StreamCap {
  const openByAddress = new Map<string, number>();
  let open = 0;
  // A stream's connection is never reused once the stream ends, so none is kept idle.
  const options = { keepAlive: false, maxSockets: Infinity };
  const agents = { 'http:': new Agent(options), 'https:': new HttpsAgent(options) };
  return {
    agents,
    open: () => open,
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
    async admit(request, reply) {
      const address = request.ip;
      const fromAddress = openByAddress.get(address) ?? 0;
      if (fromAddress >= limits.perAddress) return sendError(reply, gatewayErrors.tooManyStreamsFromAddress(retryAfterSec));
      if (open >= limits.perGateway) {
        limits.onFull();
        return sendError(reply, gatewayErrors.streamsFull(retryAfterSec));
      }
      openByAddress.set(address, fromAddress + 1);
      open++;
      // Released when the connection to the client ends, whoever ends it (client, upstream, shutdown).
      reply.raw.once('close', () => {
        open--;
        const left = (openByAddress.get(address) ?? 1) - 1;
        if (left <= 0) openByAddress.delete(address);
        else openByAddress.set(address, left);
      });
      return undefined;
    },
  };
}
