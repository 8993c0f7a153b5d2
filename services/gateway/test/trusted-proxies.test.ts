// Behind a Kubernetes Ingress every client reaches the gateway from the Ingress controller's
// address. The gateway believes that peer's X-Forwarded-For only when TRUSTED_PROXIES names it
// (then the services see each client's own address); by default it believes nobody.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { loadConfig } from '@paymesh/platform/config';
import { createLogger } from '@paymesh/platform/logger';
import { createMetrics } from '@paymesh/platform/metrics';
import { gatewayConfigSpec } from '../src/config.ts';
import { buildGateway } from '../src/service.ts';

// A real upstream that answers with the headers it received.
let upstreamUrl: string;
const upstream = createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(JSON.stringify(request.headers));
});
before(async () => {
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((done) => upstream.close(() => done())));

async function forwardedFor(env: Record<string, string>, headers: Record<string, string>): Promise<string | undefined> {
  const { config } = loadConfig(gatewayConfigSpec, { AUTH_URL: upstreamUrl, USERS_URL: upstreamUrl, PAYMENTS_URL: upstreamUrl, NOTIFICATIONS_URL: upstreamUrl, ...env });
  const gateway = await buildGateway(config, createLogger('gateway', 'silent'), createMetrics('gateway'));
  try {
    const response = await gateway.inject({ method: 'GET', url: '/users/me', headers, remoteAddress: '127.0.0.1' });
    assert.equal(response.statusCode, 200);
    return (response.json() as IncomingHttpHeaders)['x-forwarded-for'] as string | undefined;
  } finally {
    await gateway.close();
  }
}

test('by default the gateway believes no X-Forwarded-For: the services see the peer address', async () => {
  assert.equal(await forwardedFor({}, { 'x-forwarded-for': '203.0.113.7' }), '127.0.0.1');
});

test('with TRUSTED_PROXIES naming the Ingress controller, the services see the client address it saw', async () => {
  assert.equal(await forwardedFor({ TRUSTED_PROXIES: 'loopback' }, { 'x-forwarded-for': '203.0.113.7' }), '203.0.113.7');
  // A client's own forged entry stays behind the address the trusted proxy appended.
  assert.equal(await forwardedFor({ TRUSTED_PROXIES: '127.0.0.0/8' }, { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' }), '203.0.113.7');
});

test('a TRUSTED_PROXIES entry that is not an address or range refuses to start', () => {
  assert.throws(() => loadConfig(gatewayConfigSpec, { TRUSTED_PROXIES: 'ingress-nginx' }), /TRUSTED_PROXIES/);
});
