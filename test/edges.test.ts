// Bad bodies and odd paths through the gateway, against every service that takes JSON, on every
// backend: a body over the limit is 413 body_too_large, a deeply nested one 400 body_too_deep, a
// NUL in any text 400 text_contains_nul and an unpaired surrogate 400 text_not_unicode (never a
// 500 from the stack or from PostgreSQL); every
// answer carries nosniff and no-store; and no spelling of /users/internal reaches it from outside.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { backends, eventually, suitePlatform } from '@paymesh/app/testing';

/** The JSON endpoint of each service, and a valid body for it with `value` in one text field. */
const endpoints = [
  { service: 'auth', path: '/auth/login', auth: false, body: (value: unknown) => ({ username: value, password: 'irrelevant-password' }) },
  { service: 'users', path: '/users', auth: false, body: (value: unknown) => ({ username: value, email: 'edge@example.com', password: 'a-long-enough-password' }) },
  { service: 'payments', path: '/payments', auth: true, body: (value: unknown) => ({ amount: 1, user_id: 1, description: value }) },
  { service: 'notifications', path: '/notifications', auth: true, body: (value: unknown) => ({ user_id: 1, message: 'edge', data: { note: value } }) },
] as const;

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { a: value } : [value];
  return value;
}

/** A body with `depth` levels in its text field, built as text (JSON.stringify would overflow first). */
function deepBody(endpoint: (typeof endpoints)[number], depth: number): string {
  const marker = '"__deep__"';
  return JSON.stringify(endpoint.body('__deep__')).replace(marker, `${'{"a":['.repeat(depth / 2)}1${']}'.repeat(depth / 2)}`);
}

/** A request whose target is sent byte for byte (fetch would normalise `/./` away). */
function rawPost(baseUrl: string, path: string, body: string): Promise<{ status: number; body: any }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, method: 'POST', path, headers: { 'content-type': 'application/json' }, timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `request` as bytes on a new connection and reads the answer until the server closes it. */
function rawExchange(host: string, port: number, request: string): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port }, () => socket.write(request));
    let text = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      resolve({ head, body });
    });
  });
}

/** A GET with these raw headers, repeats kept (fetch would join two Authorization headers into one). */
function rawGet(url: string, headers: string[]): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    // With headers as a raw list, Node sends no Host of its own.
    const req = httpRequest(url, { method: 'GET', headers: ['host', new URL(url).host, ...headers], timeout: 10_000 }, (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const backend of backends()) {
  describe(`edges through the gateway (${backend})`, () => {
    const suite = suitePlatform(backend);
    const call = (endpoint: (typeof endpoints)[number], json: unknown, headers: Record<string, string> = {}) =>
      suite.platform.api.call('POST', endpoint.path, { token: endpoint.auth ? suite.adminToken : undefined, json, headers });

    test('a body over the limit is 413 body_too_large for every service, announced or streamed (chunked, 12 MB included)', async () => {
      for (const endpoint of endpoints) {
        const big = JSON.stringify(endpoint.body('x'.repeat(1024 * 1024 + 10)));
        const announced = await call(endpoint, big);
        assert.equal(announced.status, 413, endpoint.service);
        assert.equal(announced.body.error.code, 'body_too_large', endpoint.service);
        // Streamed just over the limit, and far over it (the service refuses and closes while the
        // body still flows: the gateway must answer the 413, not a 502 for a service that is up).
        for (const body of [big, JSON.stringify(endpoint.body('x'.repeat(12 * 1024 * 1024)))]) {
          const streamed = await fetch(suite.platform.gatewayUrl + endpoint.path, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(endpoint.auth ? { authorization: `Bearer ${suite.adminToken}` } : {}) },
            body: new Blob([body]).stream(),
            duplex: 'half',
            signal: AbortSignal.timeout(30_000),
          } as RequestInit);
          assert.equal(streamed.status, 413, `${endpoint.service}, ${body.length} bytes streamed`);
          assert.equal(((await streamed.json()) as { error: { code: string } }).error.code, 'body_too_large');
        }
      }
    });

    test('JSON nested deeper than 32 levels is 400 body_too_deep for every service (up to 100 000 levels); 28 levels in notification data are stored', async () => {
      for (const endpoint of endpoints) {
        for (const depth of [34, 200, 100_000]) {
          const response = await call(endpoint, deepBody(endpoint, depth));
          assert.equal(response.status, 400, `${endpoint.service} ${depth}`);
          assert.equal(response.body.error.code, 'body_too_deep', `${endpoint.service} ${depth}`);
        }
        // Brackets inside strings are text, not nesting.
        const inString = await call(endpoint, endpoint.body('['.repeat(1000)));
        assert.notEqual(inString.body?.error?.code, 'body_too_deep', endpoint.service);
        assert.ok(inString.status < 500, endpoint.service);
      }
      // A deep but allowed notification `data` is stored.
      const alice = await suite.platform.api.signUp();
      const stored = await suite.platform.api.call('POST', '/notifications', { token: suite.adminToken, json: { user_id: alice.id, message: 'deep', data: { a: nested(28) } } });
      assert.equal(stored.status, 201, JSON.stringify(stored.body));
    });

    test('a NUL character in any text, key or nested value is 400 text_contains_nul for every service, never a 500', async () => {
      for (const endpoint of endpoints) {
        for (const json of [JSON.stringify(endpoint.body('a\u0000b')), JSON.stringify(endpoint.body(['x', { deep: '\u0000' }])), JSON.stringify({ ...endpoint.body('ok'), 'k\u0000': 1 })]) {
          const response = await call(endpoint, json);
          assert.equal(response.status, 400, `${endpoint.service} ${json.slice(0, 80)}`);
          assert.equal(response.body.error.code, 'text_contains_nul', endpoint.service);
        }
      }
    });

    test('an unpaired surrogate (\\uD800 alone) in any text, key or nested value is 400 text_not_unicode for every service, never a 500', async () => {
      for (const endpoint of endpoints) {
        // Written as JSON escapes, as a client would send them: JSON.stringify spells a lone surrogate so.
        for (const json of [JSON.stringify(endpoint.body('a\ud800b')), JSON.stringify(endpoint.body(['x', { deep: '\udfff' }])), JSON.stringify({ ...endpoint.body('ok'), 'k\ud83d': 1 })]) {
          assert.match(json, /\\ud[89a-f]/);
          const response = await call(endpoint, json);
          assert.equal(response.status, 400, `${endpoint.service} ${json.slice(0, 80)}`);
          assert.equal(response.body.error.code, 'text_not_unicode', endpoint.service);
        }
        // A pair is a character like any other.
        assert.notEqual((await call(endpoint, JSON.stringify(endpoint.body('a\ud83d\ude00b')))).status, 500, endpoint.service);
      }
    });

    test('every service\'s answers (success, 400, 401, 404) carry X-Content-Type-Options: nosniff and Cache-Control: no-store', async () => {
      const alice = await suite.platform.api.signUp();
      const answers = [
        await suite.platform.api.call('GET', '/users/me', { token: alice.token }),
        await suite.platform.api.call('GET', '/payments', { token: alice.token }),
        await suite.platform.api.call('GET', '/notifications/', { token: alice.token }),
        await suite.platform.api.call('POST', '/auth/login', { json: { username: alice.username, password: alice.password } }),
        await suite.platform.api.call('GET', '/payments'),
        await suite.platform.api.call('GET', '/notifications/no-such-route', { token: alice.token }),
        await suite.platform.api.call('POST', '/users', { json: '{' }),
        await suite.platform.api.call('GET', '/wallet', { token: alice.token }),
        await suite.platform.api.call('GET', '/auth/no-such-route'),
      ];
      for (const [i, answer] of answers.entries()) {
        assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', `answer ${i} (${answer.status})`);
        assert.equal(answer.headers.get('cache-control'), 'no-store', `answer ${i} (${answer.status})`);
      }
    });

    test('no spelling of /users/internal/verify-credentials reaches it through the gateway', async () => {
      for (const path of ['/users/./internal/verify-credentials', '/users/x/../internal/verify-credentials', '/users/%2e/internal/verify-credentials', '/users//internal/verify-credentials', '/users/INTERNAL/verify-credentials', '/users/internal/verify-credentials', '/users/internal;a/verify-credentials', '/users\\internal\\verify-credentials']) {
        const response = await rawPost(suite.platform.gatewayUrl, path, JSON.stringify({ username: 'admin', password: 'x' }));
        assert.ok([400, 404].includes(response.status), `${path}: ${response.status}`);
        assert.ok(['path_ambiguous', 'route_not_found'].includes(response.body.error.code), path);
      }
    });

    test('two Authorization headers are 401 invalid_token at the gateway and at each service itself, whether they name two callers or one', async () => {
      const alice = await suite.platform.api.signUp();
      const bob = await suite.platform.api.signUp();
      const { http } = suite.platform.embedded!.plan;
      const targets = [
        `${suite.platform.gatewayUrl}/users/me`, `${suite.platform.gatewayUrl}/payments`, `${suite.platform.gatewayUrl}/notifications/`, `${suite.platform.gatewayUrl}/wallet`,
        `http://127.0.0.1:${http.users}/users/me`, `http://127.0.0.1:${http.payments}/wallet`, `http://127.0.0.1:${http.notifications}/notifications/`,
      ];
      for (const url of targets) {
        for (const second of [bob.token, alice.token]) {
          const answer = await rawGet(url, ['authorization', `Bearer ${alice.token}`, 'authorization', `Bearer ${second}`]);
          assert.equal(answer.status, 401, `${url}: ${answer.status} ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.error.code, 'invalid_token', url);
          assert.match(answer.body.error.message, /more than one Authorization header/, url);
        }
        // One is fine.
        assert.equal((await rawGet(url, ['authorization', `Bearer ${alice.token}`])).status, 200, url);
      }
    });

    test('a query parameter a protected route does not declare is 400 parameter_unknown, and nothing is done: POST /payments?confirm=false does not charge', async () => {
      const alice = await suite.platform.api.signUp();
      const listed = async () => (await suite.platform.api.call('GET', '/payments', { token: alice.token })).body.data.length as number;
      const before = await listed();
      const charged = await suite.platform.api.call('POST', '/payments?confirm=false', { token: alice.token, json: { amount: 2, user_id: alice.id } });
      assert.equal(charged.status, 400, JSON.stringify(charged.body));
      assert.equal(charged.body.error.code, 'parameter_unknown');
      assert.equal(await listed(), before, 'no payment was made');
      for (const [method, path] of [['GET', '/wallet?user=1'], ['GET', '/users/me?x=1'], ['GET', '/notifications/unread_count?all=1'], ['POST', '/wallet/top-ups?amount=5']] as const) {
        const answer = await suite.platform.api.call(method, path, { token: alice.token, json: method === 'POST' ? { amount: 1, payment_method: 'pm_card_visa' } : undefined });
        assert.equal(answer.status, 400, `${method} ${path}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'parameter_unknown', path);
      }
      // Declared ones still work.
      assert.equal((await suite.platform.api.call('GET', '/payments?limit=1', { token: alice.token })).status, 200);
    });

    test('a body field a protected route does not declare is 400 parameter_unknown (a route without a body takes none, or {}), and nothing is done', async () => {
      const alice = await suite.platform.api.signUp();
      const paid = await suite.platform.api.call('POST', '/payments', { token: alice.token, json: { amount: 2, user_id: alice.id } });
      assert.equal(paid.status, 200);
      const unread = async () => (await suite.platform.api.call('GET', '/notifications/unread_count', { token: alice.token })).body.unread as number;
      await eventually(async () => ((await unread()) > 0 ? true : undefined));
      const before = await unread();
      for (const [json, code] of [[{ all: true }, 'parameter_unknown'], [[1], 'body_malformed'], ['"x"', 'body_malformed']] as const) {
        const refused = await suite.platform.api.call('POST', '/notifications/mark_all_read', { token: alice.token, json });
        assert.equal(refused.status, 400, `${JSON.stringify(json)}: ${JSON.stringify(refused.body)}`);
        assert.equal(refused.body.error.code, code);
      }
      assert.equal(await unread(), before, 'nothing was marked read');
      // No body, or an empty object, is the request as documented.
      assert.equal((await suite.platform.api.call('POST', '/notifications/mark_all_read', { token: alice.token, json: {} })).status, 200);
      assert.equal((await suite.platform.api.call('POST', '/notifications/mark_all_read', { token: alice.token })).status, 200);
      assert.equal(await unread(), 0);
    });

    test('a path that exists under other methods is 405 method_not_allowed with Allow, through the gateway, for every service; nothing is done', async () => {
      const alice = await suite.platform.api.signUp();
      const cases = [
        ['PUT', '/payments', 'GET, HEAD, POST'],
        ['DELETE', '/wallet', 'GET, HEAD'],
        ['POST', '/users/me', 'DELETE, GET, HEAD, PATCH'],
        ['POST', '/notifications/unread_count', 'DELETE, GET, HEAD, PATCH, PUT'],
        ['GET', '/notifications/mark_all_read', 'DELETE, PATCH, POST, PUT'],
        ['PATCH', '/auth/login', 'POST'],
        ['DELETE', '/auth/clients', 'GET, HEAD, POST'],
      ] as const;
      for (const [method, path, allow] of cases) {
        const response = await fetch(`${suite.platform.gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${alice.token}` }, signal: AbortSignal.timeout(20_000) });
        const answer = await response.json() as { error: { code: string; type: string } };
        assert.equal(response.status, 405, `${method} ${path}: ${JSON.stringify(answer)}`);
        assert.equal(response.headers.get('allow'), allow, `${method} ${path}`);
        assert.deepEqual([answer.error.type, answer.error.code], ['invalid_request_error', 'method_not_allowed']);
      }
      // Unknown paths are still 404; internal ones stay hidden whatever the method.
      for (const [method, path] of [['PUT', '/payments/x/y/z'], ['GET', '/users/internal/verify-credentials'], ['DELETE', '/users/internal/lookup']] as const) {
        const response = await suite.platform.api.call(method, path, { token: alice.token });
        assert.deepEqual([response.status, response.body.error.code], [404, 'route_not_found'], `${method} ${path}`);
      }
    });

    test('a GET or HEAD with a body never puts the gateway\'s pooled connection out of step: the next caller\'s requests are answered as sent', async () => {
      const [mallory, alice] = [await suite.platform.api.signUp(), await suite.platform.api.signUp()];
      for (const [method, body] of [['GET', '{"url":"x"}'], ['GET', JSON.stringify({ pad: 'x'.repeat(5_000) })], ['HEAD', '{"a":1}'], ['GET', 'POST /notifications/mark_all_read HTTP/1.1\r\nHost: x\r\n\r\n']] as const) {
        for (const path of ['/notifications/webhooks', '/payments', '/users/me']) {
          // fetch refuses a body on GET; Node's client sends one, as any client could.
          const status = await new Promise<number>((resolve, reject) => {
            const req = httpRequest(`${suite.platform.gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${mallory.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
            req.on('error', reject);
            req.end(body);
          });
          assert.equal(status, 200, `${method} ${path}`);
          // The very next requests through the gateway, another user's, on the pool's idle connections.
          for (let i = 0; i < 3; i++) {
            const next = await suite.platform.api.call('GET', '/notifications/unread_count', { token: alice.token, timeoutMs: 10_000 });
            assert.deepEqual([next.status, next.body.object], [200, 'unread_count'], `after ${method} ${path} with a ${body.length}-byte body: ${JSON.stringify(next.body)}`);
          }
          const paid = await suite.platform.api.call('POST', '/payments', { token: alice.token, json: { amount: 1, user_id: alice.id }, timeoutMs: 10_000 });
          assert.equal(paid.status, 200, `after ${method} ${path}: ${JSON.stringify(paid.body)}`);
        }
      }
    });

    test('a JSON body sent as text/plain, or with a Content-Encoding, is 415 media_type_unsupported for every service, refused before any handler runs', async () => {
      for (const endpoint of endpoints) {
        const token = endpoint.auth ? suite.adminToken : undefined;
        const body = JSON.stringify(endpoint.body('edge'));
        for (const headers of [{ 'content-type': 'text/plain' }, { 'content-type': 'application/json', 'content-encoding': 'gzip' }, { 'content-type': 'application/json', 'content-encoding': 'br' }]) {
          const response = await fetch(`${suite.platform.gatewayUrl}${endpoint.path}`, {
            method: 'POST', body, headers: { ...headers, ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) }, signal: AbortSignal.timeout(20_000),
          });
          const answer = await response.json() as { error: { code: string; message: string } };
          assert.equal(response.status, 415, `${endpoint.path} ${JSON.stringify(headers)}: ${JSON.stringify(answer)}`);
          assert.equal(answer.error.code, 'media_type_unsupported');
        }
      }
    });

    test('a request the HTTP parser refuses answers in the platform\'s error shape: Content-Length beside Transfer-Encoding 400 request_malformed, headers over the limit 431 headers_too_large', async () => {
      const { hostname, port } = new URL(suite.platform.gatewayUrl);
      const smuggled = await rawExchange(hostname, Number(port), 'POST /payments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
      assert.match(smuggled.head, /^HTTP\/1\.1 400 /);
      assert.equal(JSON.parse(smuggled.body).error.code, 'request_malformed');
      assert.match(smuggled.head, /x-content-type-options: nosniff/i);
      const huge = await rawExchange(hostname, Number(port), `GET /payments HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      assert.match(huge.head, /^HTTP\/1\.1 431 /);
      assert.equal(JSON.parse(huge.body).error.code, 'headers_too_large');
    });

    // Last: it stops a service of the suite's platform.
    test('a stopped service behind the gateway is 502 upstream_unavailable with Retry-After, not 500', async () => {
      await suite.platform.embedded!.services.notifications.stopServing();
      for (const [method, path] of [['GET', '/notifications/'], ['POST', '/notifications']] as const) {
        const response = await suite.platform.api.call(method, path, { token: suite.adminToken, json: method === 'POST' ? { user_id: 1, message: 'x' } : undefined });
        assert.equal(response.status, 502, `${method} ${path}`);
        assert.equal(response.body.error.code, 'upstream_unavailable');
        assert.ok(Number(response.headers.get('retry-after')) > 0);
      }
      // The others still answer.
      assert.equal((await suite.platform.api.call('GET', '/payments', { token: suite.adminToken })).status, 200);
    });
  });
}
