// The connections the gateway keeps to one upstream for API requests, and their bound. Node's
// http.Agent queues a request past its maxSockets with no time limit (the request's own timeout
// starts only once it has a socket): that queue is how 2,048 open streams once left every further
// request to notifications waiting for ever (issue 18). So this agent never queues (no socket cap)
// and the bound is a count of requests in flight kept in front of it, where a request past it
// waits at most `waitMs` for a place and is then refused (docs/adr/0028-gateway-pools-and-stream-budget.md).
import { Agent, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from '@paymesh/platform/http-server';
import { gatewayErrors } from './errors.ts';

const retryAfterSec = 1;

export class UpstreamPool {
  /** Give them to the proxy: one pool per upstream, shared by every prefix that upstream serves. */
  readonly agents: { 'http:': Agent; 'https:': HttpsAgent };
  /** The service it reaches (its metrics' `pool` label). */
  readonly name: string;
  readonly #size: number;
  readonly #waitMs: number;
  #inFlight = 0;
  /** First come, first served: each entry hands a freed place to a waiting request. */
  readonly #waiting: (() => void)[] = [];
  readonly #onRefused: () => void;

  constructor(name: string, size: number, waitMs: number, onRefused: () => void) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`an upstream pool needs at least one place, not ${size}`);
    this.name = name;
    this.#onRefused = onRefused;
    this.#size = size;
    this.#waitMs = waitMs;
    // Keep-alive: an API request reuses a connection instead of paying a handshake; as many idle
    // ones are kept as the pool has places, so a burst finds them open.
    const options = { keepAlive: true, keepAliveMsecs: 60_000, maxSockets: Infinity, maxFreeSockets: size };
    this.agents = { 'http:': new Agent(options), 'https:': new HttpsAgent(options) };
  }

  /** The proxy routes' preHandler: the request goes on holding a place, or is answered 503 upstream_busy. */
  readonly admit = async (_request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const outcome = await this.acquire(reply.raw);
    if (outcome === 'admitted') return undefined;
    // A client that left while waiting was refused nothing; it is answered (into the void) only so
    // that the request ends here instead of reaching the upstream.
    if (outcome === 'waited') this.#onRefused();
    return sendError(reply, gatewayErrors.upstreamBusy(retryAfterSec));
  };

  get inFlight(): number {
    return this.#inFlight;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Takes a place for the request answered by `response`, held until that response closes (answered,
   * failed or abandoned by the client): `admitted` at once when one is free or when one comes free
   * within the wait; `waited` when none did; `left` when the client went first.
   */
  acquire(response: ServerResponse): Promise<'admitted' | 'waited' | 'left'> {
    if (this.#inFlight < this.#size) {
      this.#hold(response);
      return Promise.resolve('admitted');
    }
    return new Promise((resolve) => {
      const admit = () => {
        clearTimeout(timer);
        response.off('close', left);
        this.#hold(response);
        resolve('admitted');
      };
      const giveUp = (outcome: 'waited' | 'left') => {
        clearTimeout(timer);
        response.off('close', left);
        const at = this.#waiting.indexOf(admit);
        if (at >= 0) this.#waiting.splice(at, 1);
        resolve(outcome);
      };
      const left = () => giveUp('left');
      const timer = setTimeout(giveUp, this.#waitMs, 'waited');
      response.once('close', left);
      this.#waiting.push(admit);
    });
  }

  #hold(response: ServerResponse): void {
    this.#inFlight++;
    response.once('close', () => {
      this.#inFlight--;
      this.#waiting.shift()?.();
    });
  }

  /** Closes its connections: called once the gateway's server has closed, when no request is left on them. */
  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}
