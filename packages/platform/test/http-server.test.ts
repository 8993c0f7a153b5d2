// The HTTP surface every service inherits: strict validation answered in the platform's error shape,
// no internal detail in a 5xx, request ids that cannot be forged into the logs, health and
// readiness, and routes that cannot be reached without a valid token.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Type } from '@fastify/type-provider-typebox';
import { protectedRoutes } from '../src/auth/authenticate.ts';
import { createTokenVerifier } from '../src/auth/token-verifier.ts';
import { AppError } from '../src/errors.ts';
import { createHttpServer, type HttpServer } from '../src/http-server.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { currentRequestId } from '../src/request-context.ts';
import { closedPort } from './closed-port.ts';
import { audience, TestIssuer } from './test-issuer.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const metrics = createMetrics('test');
const unreachableIssuer = 'https://issuer-that-is-down.example';

let app: HttpServer;
let issuer: TestIssuer;
let eventsReady = true;
let paymentsCreated = 0;

before(async () => {
  issuer = await TestIssuer.start();
  const downPort = await closedPort();
  app = createHttpServer({
    logger: createLogger('test', 'silent'),
    metrics,
    bodyLimitBytes: 4096,
    trustedProxies: [],
    readiness: [
      { name: 'database', check: async () => {} },
      { name: 'events', check: async () => { if (!eventsReady) throw new Error('nats connection closed'); } },
    ],
  });

  app.post('/payments', {
    config: { public: true },
    schema: {
      body: Type.Object({
        amountMinor: Type.Integer({ minimum: 1 }),
        currency: Type.String({ pattern: '^[A-Z]{3}$' }),
        metadata: Type.Optional(Type.Object({ orderRef: Type.String() }, { additionalProperties: false })),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    paymentsCreated++;
    return reply.code(201).send({ ...request.body, requestId: currentRequestId() });
  });
  app.get('/payments/:id', { config: { public: true }, schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (request) => ({ id: request.params.id }));
  app.get('/files/:name', { config: { public: true } }, async (request, reply) => (request.params as { name: string }).name === 'a.txt' ? 'a' : reply.callNotFound());
  app.get('/boom', { config: { public: true } }, async () => {
    throw new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2');
  });
  app.get('/conflict', { config: { public: true } }, async () => {
    throw new AppError(409, 'idempotency_error', 'idempotency_key_reused', 'This Idempotency-Key was used with another request.', { param: 'idempotency-key' });
  });

  const verify = createTokenVerifier({
    issuers: [
      { issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience, ownIssuer: true },
      { issuer: unreachableIssuer, jwksUrl: `http://127.0.0.1:${downPort}/jwks`, audience, ownIssuer: true },
    ],
    revocations: undefined,
  });
  protectedRoutes(app, verify, (scope) => {
    scope.get('/me', async (request) => ({ subject: request.caller.subject, kind: request.caller.kind }));
    scope.post('/refunds', { config: { scope: 'refunds:write' } }, async () => ({ ok: true }));
    scope.post('/payouts', { config: { callers: ['service'], scope: 'payouts:write' } }, async () => ({ ok: true }));
  });
  await app.ready();
});

after(async () => {
  await app?.close();
  await issuer?.close();
});

function post(payload: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/payments', payload: payload as string, headers: { 'content-type': 'application/json', ...headers } });
}

describe('request validation', () => {
  test('a valid body reaches the handler as sent', async () => {
    const response = await post({ amountMinor: 1250, currency: 'EUR', metadata: { orderRef: 'A-1' } });
    assert.equal(response.statusCode, 201);
    const { requestId, ...body } = response.json() as Record<string, unknown>;
    assert.deepEqual(body, { amountMinor: 1250, currency: 'EUR', metadata: { orderRef: 'A-1' } });
    assert.equal(requestId, response.headers['x-request-id']);
  });

  test('an unknown field is refused (400 parameter_unknown), not silently dropped', async () => {
    const createdBefore = paymentsCreated;
    const response = await post({ amountMinor: 1250, currency: 'EUR', tip: 100 });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { error: { type: 'invalid_request_error', code: 'parameter_unknown', message: 'Received unknown parameter: tip.', param: 'tip' } });
    const nested = await post({ amountMinor: 1250, currency: 'EUR', metadata: { orderRef: 'A-1', isAdmin: true } });
    assert.equal(nested.statusCode, 400);
    assert.equal(nested.json().error.param, 'metadata.isAdmin');
    assert.equal(paymentsCreated, createdBefore, 'the handler never ran');
  });

  test('a missing field is refused (400 parameter_missing) naming it', async () => {
    const response = await post({ amountMinor: 1250 });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { error: { type: 'invalid_request_error', code: 'parameter_missing', message: 'Missing required parameter: currency.', param: 'currency' } });
  });

  test('a wrong type is refused (400 parameter_invalid), never coerced: "7" is not an integer', async () => {
    const createdBefore = paymentsCreated;
    for (const amountMinor of ['7', 7.5, true, null, [7]]) {
      const response = await post({ amountMinor, currency: 'EUR' });
      assert.equal(response.statusCode, 400, `amountMinor ${JSON.stringify(amountMinor)}`);
      assert.equal(response.json().error.code, 'parameter_invalid');
      assert.equal(response.json().error.param, 'amountMinor');
      assert.equal(response.json().error.type, 'invalid_request_error');
    }
    const lowercase = await post({ amountMinor: 7, currency: 'eur' });
    assert.equal(lowercase.json().error.param, 'currency');
    assert.equal(paymentsCreated, createdBefore);
  });

  test('a body of the wrong shape altogether is refused with param "body"', async () => {
    const response = await post([{ amountMinor: 7, currency: 'EUR' }]);
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'parameter_invalid');
    assert.equal(response.json().error.param, 'body');
  });

  test('malformed or empty JSON is refused (400 body_malformed)', async () => {
    for (const payload of ['{"amountMinor": 7,', '{amountMinor: 7}', '']) {
      const response = await post(payload);
      assert.equal(response.statusCode, 400, JSON.stringify(payload));
      assert.equal(response.json().error.code, 'body_malformed');
      assert.equal(response.json().error.type, 'invalid_request_error');
    }
  });

  test('a JSON body with a __proto__ key is refused, not merged into the prototype', async () => {
    const response = await post('{"amountMinor": 7, "currency": "EUR", "__proto__": {"isAdmin": true}}');
    assert.equal(response.statusCode, 400);
    assert.equal(({} as Record<string, unknown>).isAdmin, undefined);
  });

  test('a body that is not JSON is refused (415 media_type_unsupported)', async () => {
    const response = await post('amountMinor=7&currency=EUR', { 'content-type': 'text/csv' });
    assert.equal(response.statusCode, 415);
    assert.equal(response.json().error.code, 'media_type_unsupported');
  });

  test('a body over the limit is refused (413 body_too_large)', async () => {
    const response = await post({ amountMinor: 7, currency: 'EUR', metadata: { orderRef: 'x'.repeat(5000) } });
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().error.code, 'body_too_large');
  });
});

describe('errors', () => {
  test('an unknown route is 404 route_not_found, without echoing the query string', async () => {
    const response = await app.inject({ method: 'GET', url: '/nowhere?token=s3cret' });
    assert.equal(response.statusCode, 404);
    assert.deepEqual(response.json(), { error: { type: 'invalid_request_error', code: 'route_not_found', message: 'No route for GET /nowhere.' } });
  });

  test('a path served under other methods is 405 method_not_allowed, naming them in Allow (RFC 9110 §15.5.6)', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/payments', 'POST'],
      ['PUT', '/payments/', 'POST'],
      ['GET', '/payments?limit=1', 'POST'],
      ['POST', '/payments/pay_123', 'GET, HEAD'],
      ['PATCH', '/payments/pay_123/', 'GET, HEAD'],
      ['DELETE', '/healthz', 'GET, HEAD'],
    ];
    for (const [method, url, allow] of cases) {
      const response = await app.inject({ method: method as 'GET', url });
      assert.equal(response.statusCode, 405, `${method} ${url}`);
      assert.equal(response.headers.allow, allow, `${method} ${url}`);
      assert.deepEqual(response.json(), { error: { type: 'invalid_request_error', code: 'method_not_allowed', message: `This path does not take ${method}: it takes ${allow}.` } });
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
    }
    // The route of this very method found nothing: that is 404, not 405.
    const missing = await app.inject({ method: 'GET', url: '/files/b.txt' });
    assert.deepEqual([missing.statusCode, missing.json().error.code, missing.headers.allow], [404, 'route_not_found', undefined]);
    assert.equal((await app.inject({ method: 'DELETE', url: '/files/b.txt' })).statusCode, 405);
    // The router's reading of a path decides, odd spellings included: 405 exactly when the path
    // is served under another method, 404 exactly when it is served under none.
    for (const url of ['/pay%6Dents/pay_1', '/payments//', '/payments/pay_1//', '//payments/pay_1', '/payments/pay%2F1', '/PAYMENTS/pay_1', '/payments/pay_1;a']) {
      const served = await app.inject({ method: 'GET', url });
      const wrong = await app.inject({ method: 'OPTIONS', url });
      const routed = !(served.statusCode === 404 && served.json().error.code === 'route_not_found');
      assert.equal(wrong.statusCode, routed ? 405 : 404, `${url}: GET ${served.statusCode}, OPTIONS ${wrong.statusCode}`);
    }
    assert.equal((await app.inject({ method: 'OPTIONS', url: '/pay%6Dents/pay_1' })).headers.allow, 'GET, HEAD');
    // A segment more or fewer is another path: no route at all.
    for (const url of ['/payments/pay_123/refunds', '/payment', '/payments/a/b']) {
      const response = await app.inject({ method: 'DELETE', url });
      assert.deepEqual([response.statusCode, response.json().error.code], [404, 'route_not_found'], url);
      assert.equal(response.headers.allow, undefined, url);
    }
  });

  test('a malformed URL is answered in the platform error shape, with a request id', async () => {
    const response = await app.inject({ method: 'GET', url: '/payments/%E0%A4%A' });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.type, 'invalid_request_error');
    assert.match(String(response.headers['x-request-id']), uuid);
  });

  test('an unexpected error is a 500 internal_error that leaks nothing of the cause', async () => {
    const response = await app.inject({ method: 'GET', url: '/boom' });
    assert.equal(response.statusCode, 500);
    assert.deepEqual(response.json(), { error: { type: 'api_error', code: 'internal_error', message: 'Something went wrong on our side; it has been logged.' } });
    assert.doesNotMatch(response.body, /hunter2|10\.0\.0\.5|ECONNREFUSED|stack/);
    assert.match(String(response.headers['content-type']), /^application\/json/);
  });

  test('an AppError from the catalogue is answered with its own status, code and param', async () => {
    const response = await app.inject({ method: 'GET', url: '/conflict' });
    assert.equal(response.statusCode, 409);
    assert.deepEqual(response.json(), { error: { type: 'idempotency_error', code: 'idempotency_key_reused', message: 'This Idempotency-Key was used with another request.', param: 'idempotency-key' } });
  });
});

describe('request ids', () => {
  test('a well-formed x-request-id is echoed and is the request id seen by the handler', async () => {
    const response = await post({ amountMinor: 7, currency: 'EUR' }, { 'x-request-id': 'gw-1234.abc:5_6' });
    assert.equal(response.headers['x-request-id'], 'gw-1234.abc:5_6');
    assert.equal(response.json().requestId, 'gw-1234.abc:5_6');
  });

  test('without one, a fresh id is made up and echoed', async () => {
    const response = await post({ amountMinor: 7, currency: 'EUR' });
    assert.match(String(response.headers['x-request-id']), uuid);
    assert.equal(response.json().requestId, response.headers['x-request-id']);
  });

  test('a forged id (spaces, newlines, quotes, too long) is replaced by a fresh one, so it cannot forge log lines', async () => {
    for (const forged of ['abc def', 'abc\nlevel=error msg=forged', 'abc\r\nx-admin: 1', '"}{"level":60', 'a'.repeat(129), '']) {
      const response = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': forged } });
      assert.equal(response.statusCode, 200);
      const echoed = String(response.headers['x-request-id']);
      assert.match(echoed, uuid, `forged ${JSON.stringify(forged)} was replaced`);
    }
  });

  test('error responses carry the request id too', async () => {
    const response = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'trace-500' } });
    assert.equal(response.headers['x-request-id'], 'trace-500');
  });
});

describe('health and readiness', () => {
  test('/healthz answers 200 while the process is up, even when not ready', async () => {
    eventsReady = false;
    try {
      const response = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ok' });
    } finally {
      eventsReady = true;
    }
  });

  test('/readyz answers 200 when every check passes', async () => {
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { status: 'ready', checks: { database: 'ok', events: 'ok' } });
  });

  test('/readyz answers 503 naming the failing check, without its error text', async () => {
    eventsReady = false;
    try {
      const response = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(response.statusCode, 503);
      assert.deepEqual(response.json(), { status: 'not_ready', checks: { database: 'ok', events: 'failing' } });
      assert.doesNotMatch(response.body, /nats connection closed/);
    } finally {
      eventsReady = true;
    }
  });
});

describe('protected routes', () => {
  test('without an Authorization header: 401 with the compatibility message and a Bearer challenge', async () => {
    for (const headers of [{}, { authorization: '' }]) {
      const response = await app.inject({ method: 'GET', url: '/me', headers });
      assert.equal(response.statusCode, 401);
      assert.deepEqual(response.json(), {
        message: 'Authorization header missing',
        error: { type: 'authentication_error', code: 'authorization_missing', message: 'Authorization header missing' },
      });
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    }
  });

  test('with a garbage or non-Bearer credential: 401 Invalid token', async () => {
    for (const authorization of ['Bearer garbage', 'Bearer ', 'Bearer a b', 'Basic dXNlcjpwYXNz', 'garbage', `Bearer ${'x'.repeat(50)}.${'y'.repeat(50)}.z`]) {
      const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization } });
      assert.equal(response.statusCode, 401, authorization);
      assert.deepEqual(response.json(), {
        message: 'Invalid token',
        error: { type: 'authentication_error', code: 'invalid_token', message: 'Invalid token' },
      });
      assert.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"');
    }
  });

  test('with an expired token: 401 Invalid token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.token({ claims: { iat: now - 600, exp: now - 60 } });
    const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().message, 'Invalid token');
  });

  test('with a valid token: the route runs and sees the caller', async () => {
    const token = await issuer.token({ claims: { sub: 'user-7' } });
    const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { subject: 'user-7', kind: 'user' });
  });

  test('a token without the scope a route requires: 403 insufficient_scope naming the scope', async () => {
    const token = await issuer.token({ claims: { scope: 'refunds:read' } });
    const response = await app.inject({ method: 'POST', url: '/refunds', headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error.code, 'insufficient_scope');
    assert.equal(response.headers['www-authenticate'], 'Bearer error="insufficient_scope", scope="refunds:write"');
  });

  test('a caller the route does not admit: 403 forbidden, before the scope is looked at', async () => {
    const token = await issuer.token({ claims: { scope: 'refunds:read' } });
    const response = await app.inject({ method: 'POST', url: '/payouts', headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error.code, 'forbidden');
  });

  test('a route neither protected nor declared public stops the server at boot', async () => {
    const server = createHttpServer({ logger: createLogger('test', 'silent'), metrics: createMetrics('undeclared-test'), readiness: [], trustedProxies: [] });
    server.get('/forgotten', async () => ({ ok: true }));
    await assert.rejects(async () => server.ready(), /GET \/forgotten/);
    await server.close();
  });

  test('when the issuer\'s keys cannot be fetched: 503, not a 401 that would log the user out', async () => {
    const token = await issuer.token({ claims: { iss: unreachableIssuer } });
    const response = await app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().error.code, 'service_unavailable');
  });

  test('routes registered outside the protected scope stay public', async () => {
    const response = await app.inject({ method: 'GET', url: '/payments/pay_1' });
    assert.equal(response.statusCode, 200);
  });
});

test('request durations are labelled by route template, never by raw URL', async () => {
  await app.inject({ method: 'GET', url: '/payments/pay_secret_123' });
  await app.inject({ method: 'GET', url: '/no/such/route/abc' });
  const counts = (await metrics.httpDuration.get()).values.filter((v) => v.metricName === 'http_server_request_duration_seconds_count');
  const routes = new Set(counts.map((v) => `${v.labels.method} ${v.labels.route} ${v.labels.status_class}`));
  assert.ok(routes.has('GET /payments/:id 2xx'), [...routes].join(', '));
  assert.ok(routes.has('GET unmatched 4xx'), [...routes].join(', '));
  const totals = (await metrics.httpRequests.get()).values.map((v) => `${v.labels.method} ${v.labels.route} ${v.labels.status_class}`);
  assert.ok(totals.includes('GET /payments/:id 2xx'), 'the _total counter carries the same labels');
  assert.doesNotMatch(await metrics.registry.metrics(), /pay_secret_123|no\/such\/route/);
});
