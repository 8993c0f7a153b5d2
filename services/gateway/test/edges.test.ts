// The gateway at the edge, against real upstream servers on loopback: paths that could be read two
// ways are refused before routing (so no spelling reaches a blocked prefix), live streams are capped
// per client address, a body over the services' limit is 413, and a stopped, resetting or silent
// upstream is 502/503 with Retry-After, logged and counted, never a 500.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eventually } from '@paymesh/app/testing';
import { loadConfig } from '@paymesh/platform/config';
import type { HttpServer } from '@paymesh/platform/http-server';
import { createLogger } from '@paymesh/platform/logger';
import { createMetrics, type Metrics } from '@paymesh/platform/metrics';
import { buildGateway } from '../src/service.ts';
import { gatewayConfigSpec } from '../src/config.ts';
import { closedPort } from '../../../packages/platform/test/closed-port.ts';
import { openStream } from './open-stream.ts';

interface RawResponse { status: number; headers: IncomingMessage['headers']; body: any }

/** A request whose target is sent byte for byte (fetch would normalise `/./` and `//` away). */
function raw(baseUrl: string, method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method, path, headers: options.headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

async function listen(server: Server | TcpServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** An upstream that answers every request with the path it received; the stream path stays open. */
function echoUpstream(): Server {
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url?.startsWith('/notifications/stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
      return;
    }
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url })));
  });
}

async function startGateway(env: Record<string, string>): Promise<{ url: string; app: HttpServer; metrics: Metrics; logs: string[] }> {
  const logs: string[] = [];
  const { config } = loadConfig(gatewayConfigSpec, { HOST: '127.0.0.1', PORT: '0', ...env });
  const metrics = createMetrics('gateway');
  const app = await buildGateway(config, createLogger('gateway', 'info', { write: (line: string) => void logs.push(line) }), metrics);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: address, app, metrics, logs };
}

describe('gateway edges', () => {
  let upstream: Server;
  let gateway: Awaited<ReturnType<typeof startGateway>>;

  before(async () => {
    upstream = echoUpstream();
    const upstreamUrl = await listen(upstream);
    gateway = await startGateway({ AUTH_URL: upstreamUrl, USERS_URL: upstreamUrl, PAYMENTS_URL: upstreamUrl, NOTIFICATIONS_URL: upstreamUrl, MAX_STREAMS_PER_ADDRESS: '3' });
  });
  after(async () => {
    await gateway?.app.close();
    upstream?.closeAllConnections();
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
  });

  describe('paths', () => {
    const prefixes = ['/auth', '/users', '/payments', '/payment_methods', '/wallet', '/notifications'];
    const ambiguous = (prefix: string) => [
      `${prefix}/./internal/x`, `${prefix}/a/../internal/x`, `${prefix}/internal/./x`, `${prefix}/..`, `${prefix}/.`,
      `${prefix}/%2e/internal/x`, `${prefix}/%2E%2e/internal/x`, `${prefix}/%2e%2e/x`, `${prefix}%2finternal/x`, `${prefix}/internal%2Fx`,
      `${prefix}//internal/x`, `/${prefix}/internal/x`, `${prefix}/internal//x`, `${prefix}\\internal\\x`, `${prefix}/%5cinternal/x`,
      `${prefix}/internal./x`, `${prefix}./internal/x`, `${prefix}/internal;x=1/y`, `${prefix};a/internal/x`, `${prefix}/%3binternal`,
      `${prefix}/%252e%252e/x`, `${prefix}/%00/x`, `${prefix}/%c0%ae%c0%ae/x`,
    ];

    test('a path with a dot segment, an empty segment, an encoded dot, slash, backslash, ";" or "%" is refused with 400 path_ambiguous, for every prefix', async () => {
      for (const prefix of prefixes) {
        for (const path of ambiguous(prefix)) {
          const response = await raw(gateway.url, 'POST', path, { headers: { 'content-type': 'application/json' }, body: '{}' });
          assert.equal(response.status, 400, path);
          // Overlong UTF-8 (`%c0%ae`) does not even decode: the router refuses it before our check.
          assert.ok(['path_ambiguous', 'request_invalid'].includes(response.body.error.code), path);
        }
      }
    });

    test('every <prefix>/internal route is 404 at the gateway, in any letter case, and never reaches the upstream', async () => {
      for (const prefix of prefixes) {
        for (const path of [`${prefix}/internal/verify-credentials`, `${prefix}/internal`, `${prefix}/internal/`, `${prefix}/INTERNAL/x`, `${prefix}/Internal/x?y=1`, `${prefix.toUpperCase()}/internal/x`, `${prefix}/%69nternal/x`]) {
          const response = await raw(gateway.url, 'POST', path, { headers: { 'content-type': 'application/json' }, body: '{}' });
          assert.equal(response.status, 404, path);
          assert.equal(response.body.error.code, 'route_not_found', path);
        }
      }
    });

    test('plain paths still pass, with their trailing slash, query string and dots inside a segment', async () => {
      for (const path of ['/users/me', '/notifications/', '/auth/.well-known/openid-configuration', '/payments/pay_1.2?x=../y', '/users/internals', '/users/me/internal']) {
        const response = await raw(gateway.url, 'GET', path);
        assert.equal(response.status, 200, path);
        assert.equal(response.body.path, path);
      }
    });
  });

  test('a body announced larger than the services\' limit is 413 body_too_large at the gateway, for every prefix', async () => {
    for (const prefix of ['/auth/login', '/users', '/payments', '/notifications']) {
      const response = await raw(gateway.url, 'POST', prefix, { headers: { 'content-type': 'application/json' }, body: `{"a":"${'x'.repeat(1024 * 1024)}"}` });
      assert.equal(response.status, 413, prefix);
      assert.equal(response.body.error.code, 'body_too_large', prefix);
    }
  });

  test('every gateway answer (proxied, 4xx, 404) carries X-Content-Type-Options: nosniff and Cache-Control: no-store', async () => {
    for (const [method, path] of [['GET', '/users/me'], ['GET', '/nowhere'], ['GET', '/users/./x'], ['GET', '/healthz'], ['POST', '/users/internal/x']]) {
      const response = await raw(gateway.url, method!, path!);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', path);
      assert.equal(response.headers['cache-control'], 'no-store', path);
    }
  });

  test('live streams are capped per client address: the 4th is 429 too_many_streams_from_address with Retry-After, and a closed stream frees its place', async () => {
    const opened: { close: () => void }[] = [];
    const open = () => openStream(gateway.url);
    try {
      for (let i = 0; i < 3; i++) {
        const stream = await open();
        assert.equal(stream.status, 200);
        opened.push(stream);
      }
      const refused = await open();
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error.code, 'too_many_streams_from_address');
      assert.ok(Number(refused.headers['retry-after']) > 0);
      // Other paths are not counted.
      assert.equal((await raw(gateway.url, 'GET', '/notifications/')).status, 200);
      opened.shift()!.close();
      let reopened: Awaited<ReturnType<typeof open>> | undefined;
      for (let attempt = 0; attempt < 50 && reopened?.status !== 200; attempt++) {
        reopened = await open();
        if (reopened.status !== 200) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(reopened?.status, 200, 'a place is free again once a stream closed');
      opened.push(reopened!);
    } finally {
      for (const stream of opened) stream.close();
    }
  });
});

describe('gateway: an upstream that does not answer', () => {
  let resetting: TcpServer;
  let silent: Server;
  let gateway: Awaited<ReturnType<typeof startGateway>>;

  before(async () => {
    // Accepts the connection and resets it at once (a crash mid-request).
    resetting = createTcpServer((socket) => socket.resetAndDestroy());
    // Accepts the request and never answers (overloaded, or stuck stopping).
    silent = createServer(() => {});
    gateway = await startGateway({
      AUTH_URL: await listen(silent),
      USERS_URL: await listen(resetting),
      PAYMENTS_URL: `http://127.0.0.1:${await closedPort()}`,
      NOTIFICATIONS_URL: `http://127.0.0.1:${await closedPort()}`,
      UPSTREAM_TIMEOUT_MS: '500',
    });
  });
  after(async () => {
    await gateway?.app.close();
    resetting?.close();
    silent?.closeAllConnections();
    silent?.close();
  });

  const cases = [
    { name: 'a stopped service (connection refused)', path: '/payments', status: 502, code: 'upstream_unavailable' },
    { name: 'a stopped service, on another prefix', path: '/notifications/', status: 502, code: 'upstream_unavailable' },
    { name: 'a service that resets the connection', path: '/users/me', status: 502, code: 'upstream_unavailable' },
    { name: 'a service that does not answer in time', path: '/auth/jwks', status: 503, code: 'upstream_timeout' },
  ];
  for (const { name, path, status, code } of cases) {
    test(`${name} is ${status} ${code} with Retry-After, logged with an access line and counted in the request metric`, async () => {
      const before = gateway.logs.length;
      for (const method of ['GET', 'POST']) {
        const response = await raw(gateway.url, method, path, method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{"a":1}' } : {});
        assert.equal(response.status, status, `${method} ${path}`);
        assert.equal(response.body.error.code, code);
        assert.ok(Number(response.headers['retry-after']) > 0);
      }
      // The access line is written when the response has finished, which the client may see first.
      const accessLines = () => gateway.logs.slice(before).map((line) => JSON.parse(line)).filter((l) => l.msg === 'request completed' && l.status === status);
      await eventually(async () => (accessLines().length >= 2 ? true : undefined));
      assert.equal(accessLines().length, 2, 'one access line per request');
      assert.ok(gateway.logs.slice(before).every((line) => !line.includes('"status":500')), 'never logged as a 500');
      const lines = gateway.logs.slice(before).map((line) => JSON.parse(line));
      assert.ok(lines.some((l) => l.msg === 'upstream did not answer'));
      const metric = await gateway.metrics.registry.getSingleMetricAsString('http_server_request_duration_seconds');
      assert.match(metric, /http_server_request_duration_seconds_count\{[^}]*status_class="5xx"[^}]*\} [1-9]/);
    });
  }
});
