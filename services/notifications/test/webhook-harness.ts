// What every webhook suite shares: a customer's endpoint on loopback (Receiver), a client for the
// webhook routes, the platform's configuration (retry schedule, time limit, service secrets) and
// the platform of a suite with the service token and metrics its tests read.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import { eventually, serviceClientsEnv, startTestPlatform, type Backend, type TestEnv, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, type Db, type SQL } from '@paymesh/platform/db/open-database';

// A service client secret this test knows, to send what only services may send.
export const paymentsServiceSecret = randomBytes(32).toString('base64url');
const otherSecrets = { users: randomBytes(32).toString('base64url'), notifications: randomBytes(32).toString('base64url') };
// Given to every platform this file starts (and to the processes of the distributed one).
// Receivers listen on 127.0.0.1, so private targets are allowed except in the suite that checks
// the guard. 200 ms then 1 s: three attempts in all, the first and the last at least 1.2 s (so a
// signed second) apart. Each attempt is cut off after 2 s.
export const env: TestEnv = {
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
  NOTIFICATIONS_RETRY_DELAYS: '200ms,1s',
  NOTIFICATIONS_DELIVERY_TIMEOUT_MS: '2000',
  EMAIL_OUTBOX_DIR: mkdtempSync(join(tmpdir(), 'paymesh-webhooks-mail-')),
  ...serviceClientsEnv({ ...otherSecrets, payments: paymentsServiceSecret }),
};

export const attempts = 3; // 1 + the two delays above

export type User = { id: number; token: string };

export interface Received {
  readonly raw: Buffer;
  readonly body: any;
  readonly headers: IncomingHttpHeaders;
  readonly atMs: number;
}

export interface Answer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly delayMs?: number;
}

/** A customer's webhook endpoint on loopback: keeps every request with its raw body, answers as told. */
export class Receiver {
  readonly received: Received[] = [];
  /** The answer to the nth request (from 0). */
  answer: (n: number) => Answer = () => ({ status: 200, body: 'ok' });
  readonly #server: Server;
  readonly url: string;

  private constructor(server: Server) {
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/paymesh`;
  }

  static async start(answer?: (n: number) => Answer): Promise<Receiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new Receiver(server);
    if (answer !== undefined) receiver.answer = answer;
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const n = receiver.received.length;
        receiver.received.push({ raw, body: JSON.parse(raw.toString('utf8')), headers: req.headers, atMs: Date.now() });
        const answer = receiver.answer(n);
        setTimeout(() => res.writeHead(answer.status, answer.headers).end(answer.body ?? ''), answer.delayMs ?? 0);
      });
    });
    receivers.push(receiver);
    return receiver;
  }

  of(type: string): Received[] {
    return this.received.filter((r) => r.body.type === type);
  }

  withData(key: string, value: unknown): Received[] {
    return this.received.filter((r) => r.body.data[key] === value);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const receivers: Receiver[] = [];
after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
});

export const signature = (r: Received) => r.headers['paymesh-signature'] as string;
export const v1Count = (r: Received) => signature(r).split(',').filter((part) => part.startsWith('v1=')).length;
export const signedAtSec = (r: Received) => Number(/^t=(\d+),/.exec(signature(r))![1]);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a suite needs to talk to one platform. */
export function client(platform: () => TestPlatform) {
  const api = () => platform().api;
  return {
    createEndpoint: (token: string, body: Record<string, unknown>) => api().call('POST', '/notifications/webhooks', { token, json: body }),
    /** Creates an endpoint that must be accepted; returns it with its secret. */
    async endpoint(token: string, url: string, eventTypes: string[] = ['*'], extra: Record<string, unknown> = {}) {
      const created = await api().call('POST', '/notifications/webhooks', { token, json: { url, event_types: eventTypes, ...extra } });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      return created.body as { id: string; secret: string; url: string; event_types: string[]; status: string; all_users: boolean };
    },
    /** POST /notifications as an admin or a service. */
    send: (token: string, userId: number, body: Record<string, unknown> = {}) =>
      api().call('POST', '/notifications', { token, json: { user_id: userId, message: `hello ${randomBytes(3).toString('hex')}`, ...body } }),
    async pay(user: User, amount = 12.5) {
      const paid = await api().call('POST', '/payments', { token: user.token, json: { amount, user_id: user.id } });
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      return paid.body.payment.id as string;
    },
    endpointDeliveries: (token: string, endpointId: string, query = '') => api().call('GET', `/notifications/webhooks/${endpointId}/deliveries${query}`, { token }),
    deliveries: (token: string, query = '') => api().call('GET', `/notifications/deliveries${query}`, { token }),
    delivery: (token: string, id: string) => api().call('GET', `/notifications/deliveries/${id}`, { token }),
    /** Polls the endpoint's delivery log until its newest delivery is in this status. */
    async settled(token: string, endpointId: string, status: 'delivered' | 'dead', timeoutMs = 8_000) {
      return eventually(async () => {
        const list = await api().call('GET', `/notifications/webhooks/${endpointId}/deliveries`, { token });
        assert.equal(list.status, 200);
        const newest = list.body.data[0];
        return newest?.status === status ? newest : undefined;
      }, { timeoutMs, intervalMs: 50 });
    },
  };
}

export function countRows(db: Db, query: SQL): Promise<number> {
  return queryRows<{ n: number }>(db, query).then((rows) => Number(rows[0]!.n));
}

/** The platform of a suite (started in its `before`, stopped in its `after`) and what its tests reach for. */
export function webhookSuite(backend: Backend, suiteEnv: TestEnv = env) {
  let platform: TestPlatform | undefined;
  let db: Db | undefined;
  let adminToken: string | undefined;
  const basic = `Basic ${Buffer.from(`payments-service:${paymentsServiceSecret}`).toString('base64')}`;
  before(async () => {
    platform = await startTestPlatform(backend, { env: suiteEnv });
    db = platform.embedded!.services.notifications.runtime.database.db;
    adminToken = await platform.api.adminToken();
  });
  after(async () => {
    await platform?.stop();
  });
  const suite = {
    get platform(): TestPlatform {
      return platform!;
    },
    get db(): Db {
      return db!;
    },
    get adminToken(): string {
      return adminToken!;
    },
    /** A token of the payments service, which may send what only services may send. */
    async serviceToken(): Promise<string> {
      const issued = await suite.platform.api.call('POST', '/auth/token', {
        headers: { authorization: basic },
        form: { grant_type: 'client_credentials', scope: 'notifications:write', resource: 'urn:paymesh:notifications' },
      });
      assert.equal(issued.status, 200, JSON.stringify(issued.body));
      return issued.body.access_token as string;
    },
    /** A sample of the notifications service's metrics: the one named so whose labels include these (0 before the first). */
    async metric(name: string, labels: Record<string, string>): Promise<number> {
      const text = await (await fetch(`http://127.0.0.1:${suite.platform.embedded!.plan.metrics.notifications}/metrics`)).text();
      const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
      const found = text.split('\n').find((line) => line.startsWith(`${name}{`) && wanted.every((l) => line.slice(0, line.indexOf('}')).includes(l)));
      return found === undefined ? 0 : Number(found.slice(found.lastIndexOf(' ') + 1));
    },
    count: (query: SQL) => countRows(suite.db, query),
  };
  return suite;
}
