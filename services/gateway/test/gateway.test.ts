// The gateway: request ids in and out (and on to the services), routing by path prefix, the
// platform's error shape for what it cannot route, and the health, readiness and metrics
// endpoints of the gateway and of every service.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { backends, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';

const serviceNames = ['auth', 'users', 'payments', 'notifications'] as const;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(5_000) });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

for (const backend of backends()) {
  describe(`gateway (${backend})`, () => {
    let platform: TestPlatform;

    before(async () => {
      platform = await startTestPlatform(backend);
    });
    after(async () => {
      await platform?.stop();
    });

    describe('request ids', () => {
      test('a request id sent as x-request-id comes back on the response, from every upstream and on errors', async () => {
        for (const [method, path] of [['GET', '/auth/jwks'], ['GET', '/users/me'], ['GET', '/payments'], ['GET', '/notifications/'], ['GET', '/no-such-prefix'], ['POST', '/auth/login']] as const) {
          const requestId = `test-${randomBytes(6).toString('hex')}`;
          const response = await platform.api.call(method, path, { headers: { 'x-request-id': requestId }, json: method === 'POST' ? {} : undefined });
          assert.equal(response.headers.get('x-request-id'), requestId, `${method} ${path}`);
        }
      });

      test('without x-request-id the response carries a generated one, different each time', async () => {
        const first = await platform.api.call('GET', '/auth/jwks');
        const second = await platform.api.call('GET', '/auth/jwks');
        assert.match(String(first.headers.get('x-request-id')), uuid);
        assert.match(String(second.headers.get('x-request-id')), uuid);
        assert.notEqual(first.headers.get('x-request-id'), second.headers.get('x-request-id'));
      });

      test('an unprintable or oversized x-request-id is replaced by a generated one (logs cannot be forged)', async () => {
        for (const forged of ['has space', 'a'.repeat(129), 'x"}{"level":60', 'new\tline']) {
          const response = await platform.api.call('GET', '/auth/jwks', { headers: { 'x-request-id': forged } });
          assert.equal(response.status, 200);
          assert.match(String(response.headers.get('x-request-id')), uuid, JSON.stringify(forged));
        }
      });

      test('the request id reaches the service behind the gateway: it is recorded on the payment\'s outbox event', async () => {
        const alice = await platform.api.signUp();
        const requestId = `pay-${randomBytes(6).toString('hex')}`;
        const paid = await platform.api.call('POST', '/payments', { token: alice.token, json: { amount: 5, user_id: alice.id }, headers: { 'x-request-id': requestId } });
        assert.equal(paid.status, 200);
        assert.equal(paid.headers.get('x-request-id'), requestId);
        const [row] = await queryRows<{ request_id: string | null }>(platform.embedded!.services.payments.runtime.database.db,
          sql`select request_id from outbox where payload->>'payment_id' = ${paid.body.payment.id}`);
        assert.equal(row?.request_id, requestId);
      });
    });

    describe('routing', () => {
      test('each prefix reaches its service: /auth/jwks 200, /users/me, /payments and /notifications 401 without a token', async () => {
        const jwks = await platform.api.call('GET', '/auth/jwks');
        assert.equal(jwks.status, 200);
        assert.ok(Array.isArray(jwks.body.keys) && jwks.body.keys.length > 0);
        for (const path of ['/users/me', '/payments', '/payments/', '/notifications', '/notifications/']) {
          const response = await platform.api.call('GET', path);
          assert.equal(response.status, 401, path);
          assert.equal(response.body.message, 'Authorization header missing', path);
          assert.equal(response.body.error.code, 'authorization_missing', path);
          assert.equal(response.headers.get('www-authenticate'), 'Bearer', path);
        }
      });

      test('an unknown path is 404 with the platform error shape (`/` is the dashboard\'s page, ADR 27)', async () => {
        for (const path of ['/nope', '/usersx', '/payment', '/auth-service/jwks', '/metrics', '/application', '/index.html']) {
          const response = await platform.api.call('GET', path);
          assert.equal(response.status, 404, path);
          assert.equal(response.body.error.type, 'invalid_request_error', path);
          assert.equal(response.body.error.code, 'route_not_found', path);
          assert.equal(typeof response.body.error.message, 'string', path);
          assert.match(String(response.headers.get('content-type')), /^application\/json/, path);
        }
      });

      test("a client's X-Forwarded-Proto is not trusted by the gateway: auth's discovery keeps the scheme the client used", async () => {
        const plain = await platform.api.call('GET', '/auth/.well-known/openid-configuration');
        const spoofed = await platform.api.call('GET', '/auth/.well-known/openid-configuration', { headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' } });
        assert.equal(spoofed.status, 200);
        assert.equal(new URL(plain.body.token_endpoint).protocol, 'http:');
        assert.equal(spoofed.body.token_endpoint, plain.body.token_endpoint);
      });

      test("a client's Host header does not choose the URLs auth publishes (PUBLIC_URL does)", async () => {
        const honest = await platform.api.call('GET', '/auth/.well-known/openid-configuration');
        const poisoned = await platform.api.call('GET', '/auth/.well-known/openid-configuration', { headers: { host: 'evil.test', 'x-forwarded-host': 'evil.test' } });
        assert.equal(poisoned.status, 200);
        assert.equal(new URL(poisoned.body.jwks_uri).host, new URL(honest.body.jwks_uri).host);
        assert.notEqual(new URL(poisoned.body.jwks_uri).host, 'evil.test');
        assert.equal(new URL(honest.body.jwks_uri).host, new URL(honest.body.issuer).host);
      });

      test('the query string and the body reach the service unchanged', async () => {
        const alice = await platform.api.signUp();
        const limited = await platform.api.call('GET', '/payments?limit=0', { token: alice.token });
        assert.equal(limited.status, 400);
        assert.equal(limited.body.error.param, 'limit');
        const exact = await platform.api.call('POST', '/payments', { token: alice.token, json: `{"amount": 100.10, "user_id": ${alice.id}}` });
        assert.equal(exact.body.payment.amount, 10010);
      });
    });

    describe('health, readiness and metrics', () => {
      test('the gateway answers /healthz and /readyz 200, readiness checking every upstream', async () => {
        const health = await platform.api.call('GET', '/healthz');
        assert.equal(health.status, 200);
        assert.deepEqual(health.body, { status: 'ok' });
        const ready = await platform.api.call('GET', '/readyz');
        assert.equal(ready.status, 200);
        assert.deepEqual(ready.body, { status: 'ready', checks: { auth: 'ok', users: 'ok', payments: 'ok', notifications: 'ok' } });
      });

      test("every service's /healthz and /readyz answer 200, readiness checking its database and events", async () => {
        for (const name of serviceNames) {
          const { url } = platform.embedded!.services[name];
          const health = await get(`${url}/healthz`);
          assert.equal(health.status, 200, name);
          assert.deepEqual(JSON.parse(health.text), { status: 'ok' }, name);
          const ready = await get(`${url}/readyz`);
          assert.equal(ready.status, 200, name);
          assert.deepEqual(JSON.parse(ready.text), { status: 'ready', checks: { database: 'ok', events: 'ok' } }, name);
        }
      });

      test('each service serves Prometheus text on its own metrics port, with http_server_request_duration_seconds by route', async () => {
        for (const name of serviceNames) {
          const service = platform.embedded!.services[name];
          assert.equal((await get(`${service.url}/healthz`)).status, 200);
          const metrics = await get(service.metricsUrl);
          assert.equal(metrics.status, 200, name);
          assert.match(String(metrics.headers.get('content-type')), /^text\/plain/, name);
          assert.match(metrics.text, /^# TYPE http_server_request_duration_seconds histogram$/m, name);
          const healthz = new RegExp(`^http_server_request_duration_seconds_count\\{[^}]*route="/healthz"[^}]*status_class="2xx"[^}]*\\} [1-9]`, 'm');
          assert.match(metrics.text, healthz, name);
          assert.match(metrics.text, /^http_server_requests_total\{[^}]*route="\/healthz"[^}]*\} [1-9]/m, name);
          assert.match(metrics.text, new RegExp(`service="${name}"`), name);
          assert.notEqual(new URL(service.metricsUrl).port, new URL(service.url).port, name);
        }
      });

      test('embedded mode exports the one process\'s process_* and nodejs_* series once, not once per endpoint', async () => {
        const endpoints = [...serviceNames.map((name) => platform.embedded!.services[name].metricsUrl), `http://127.0.0.1:${platform.embedded!.plan.gatewayMetrics}/metrics`];
        const texts = await Promise.all(endpoints.map(async (url) => (await get(url)).text));
        const carrying = texts.filter((text) => /^process_resident_memory_bytes\{[^}]*\} \d+/m.test(text));
        assert.equal(carrying.length, 1, 'exactly one endpoint carries the process series');
        assert.match(carrying[0]!, /^nodejs_eventloop_lag_seconds\{[^}]*\} /m);
        assert.equal(texts.filter((text) => /^nodejs_heap_size_used_bytes\{/m.test(text)).length, 1);
      });

      test('the gateway serves its own metrics on its metrics port', async () => {
        assert.equal((await platform.api.call('GET', '/healthz')).status, 200);
        const metrics = await get(`http://127.0.0.1:${platform.embedded!.plan.gatewayMetrics}/metrics`);
        assert.equal(metrics.status, 200);
        assert.match(metrics.text, /^# TYPE http_server_request_duration_seconds histogram$/m);
        assert.match(metrics.text, /service="gateway"/);
      });

      test('payments exports payment_request_count on its metrics port', async () => {
        const metrics = await get(platform.embedded!.services.payments.metricsUrl);
        assert.match(metrics.text, /^# TYPE payment_request_count counter$/m);
        assert.match(metrics.text, /^payment_request_count(\{[^}]*\})? \d+$/m);
      });
    });
  });
}
