// The SDK's retries, against a small HTTP server on 127.0.0.1 that answers what each test scripts
// (429 and 503 with Retry-After, a dropped connection, an idempotency conflict) and records what
// it received. The sleep is injected: it records the waits and takes no real time.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ApiError, ConnectionError, createPaymesh, InvalidRequestError, RateLimitError, type RetryOptions } from '@paymesh/sdk';
import { retryAfterMs, retryPolicy } from '@paymesh/sdk/retry-policy';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** What the server does with one request: answer, or drop the connection without a word. */
type Scripted = { status: number; headers?: Record<string, string>; body?: unknown } | 'drop';

const created = { status: 200, body: { success: true, payment: { id: 'pay_1' } } };
const error = (status: number, type: string, code: string, headers: Record<string, string> = {}) => ({ status, headers, body: { error: { type, code, message: `${code}.` } } });

describe('retries', () => {
  let server: Server;
  let baseUrl: string;
  let script: Scripted[] = [];
  let received: Received[] = [];
  let slept: number[] = [];

  before(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({ method: request.method!, url: request.url!, headers: request.headers, body });
        const next = script.shift() ?? { status: 500, body: { error: { type: 'api_error', code: 'unscripted', message: 'the test scripted no answer' } } };
        if (next === 'drop') return void request.socket.destroy();
        response.writeHead(next.status, { 'content-type': 'application/json', 'x-request-id': `req-${received.length}`, ...next.headers });
        response.end(next.body === undefined ? '' : JSON.stringify(next.body));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
  });
  beforeEach(() => {
    script = [];
    received = [];
    slept = [];
  });

  const retries = (options: RetryOptions = {}): RetryOptions => ({
    maxRetries: 3,
    baseDelayMs: 100,
    maxDelayMs: 10_000,
    random: () => 0.5,
    sleep: async (ms) => void slept.push(ms),
    ...options,
  });
  const sdk = (options: RetryOptions = {}) => createPaymesh({ baseUrl, token: 'test-token', retries: retries(options) });
  const pay = (paymesh = sdk()) => paymesh.post('/payments', { body: { amount: 5, user_id: 1 } });

  test('a 429 is retried after the Retry-After seconds, then the answer is returned', async () => {
    script = [error(429, 'rate_limit_error', 'rate_limited', { 'retry-after': '2' }), { status: 200, body: { object: 'wallet' } }];
    assert.deepEqual(await sdk().get('/wallet'), { object: 'wallet' });
    assert.equal(received.length, 2);
    assert.deepEqual(slept, [2000]);
  });

  test('a Retry-After given as an HTTP date waits until that date', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    script = [error(503, 'api_error', 'service_unavailable', { 'retry-after': 'Thu, 01 Jan 2026 00:00:07 GMT' }), { status: 200, body: {} }];
    await sdk({ now: () => now }).get('/wallet');
    assert.deepEqual(slept, [7000]);
  });

  test('without Retry-After, the waits grow exponentially with full jitter (random × base × 2^retry), capped at maxDelayMs', async () => {
    script = [error(503, 'api_error', 'x'), error(503, 'api_error', 'x'), error(503, 'api_error', 'x'), { status: 200, body: {} }];
    await sdk().get('/wallet');
    assert.deepEqual(slept, [50, 100, 200]);
    const policy = retryPolicy({ maxRetries: 10, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 });
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((retry) => policy.delayMs(retry)), [99, 199, 399, 799, 999, 999]);
    assert.equal(retryPolicy({ maxRetries: 10, random: () => 0 }).delayMs(3), 0, 'full jitter reaches down to no wait at all');
  });

  test('retries are bounded: after maxRetries the last answer is thrown as a typed error with the request id', async () => {
    script = Array.from({ length: 10 }, () => error(503, 'api_error', 'service_unavailable'));
    const refused = await pay().catch((e: unknown) => e);
    assert.ok(refused instanceof ApiError);
    assert.equal(refused.status, 503);
    assert.equal(refused.code, 'service_unavailable');
    assert.equal(refused.requestId, 'req-4');
    assert.equal(received.length, 4, 'the first attempt and three retries');
  });

  test('a Retry-After longer than maxDelayMs is not waited out: the RateLimitError says when to come back', async () => {
    script = [error(429, 'rate_limit_error', 'rate_limited', { 'retry-after': '3600' })];
    const refused = await sdk().get('/wallet').catch((e: unknown) => e);
    assert.ok(refused instanceof RateLimitError);
    assert.equal(refused.retryAfterSeconds, 3600);
    assert.equal(received.length, 1);
    assert.deepEqual(slept, []);
  });

  test('every POST gets an Idempotency-Key, and each retry of it sends the same key and body', async () => {
    script = [error(503, 'api_error', 'x'), 'drop', error(409, 'idempotency_error', 'idempotency_key_in_use'), created];
    assert.deepEqual(await pay(), created.body);
    assert.equal(received.length, 4);
    const keys = new Set(received.map((r) => String(r.headers['idempotency-key'])));
    assert.equal(keys.size, 1);
    assert.match([...keys][0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a random UUID');
    assert.ok(received.every((r) => r.body === '{"amount":5,"user_id":1}'));
    assert.ok(received.every((r) => r.headers.authorization === 'Bearer test-token'));
    // Another request is another key.
    script = [created];
    await pay();
    assert.ok(!keys.has(String(received.at(-1)!.headers['idempotency-key'])));
  });

  test('a key the caller gives is kept, on every attempt', async () => {
    script = [error(429, 'rate_limit_error', 'x'), created];
    await sdk().post('/payments', { body: { amount: 5, user_id: 1 }, params: { header: { 'idempotency-key': 'order-42' } } });
    assert.deepEqual(received.map((r) => r.headers['idempotency-key']), ['order-42', 'order-42']);
  });

  test('a 409 that is not the "still running" conflict is not retried', async () => {
    script = [error(409, 'invalid_request_error', 'payment_state_invalid')];
    const refused = await pay().catch((e: unknown) => e);
    assert.ok(refused instanceof InvalidRequestError);
    assert.equal(refused.code, 'payment_state_invalid');
    assert.equal(received.length, 1);
  });

  test('a POST whose operation ignores Idempotency-Key is never retried once it may have reached the server (5xx, dropped connection)', async () => {
    const register = (paymesh = sdk()) => paymesh.post('/users', { body: { username: 'carol', email: 'carol@example.com', password: 'a long passphrase' } });
    script = [error(503, 'api_error', 'x'), created];
    await assert.rejects(register(), ApiError);
    assert.equal(received.length, 1);
    script = ['drop', created];
    await assert.rejects(register(), ConnectionError);
    assert.equal(received.length, 2);
    // A 429 says it was not acted on: that one is retried.
    script = [error(429, 'rate_limit_error', 'x'), { status: 202, body: { object: 'registration' } }];
    assert.deepEqual(await register(), { object: 'registration' });
  });

  test('a GET is retried after a dropped connection; a refused connection is retried for any request, up to the bound', async () => {
    script = ['drop', { status: 200, body: { object: 'wallet' } }];
    assert.deepEqual(await sdk().get('/wallet'), { object: 'wallet' });
    assert.equal(received.length, 2);

    // A port nobody listens on: the connection is refused, nothing was sent.
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    closed.close();
    await once(closed, 'close');
    let attempts = 0;
    const paymesh = createPaymesh({ baseUrl: closedUrl, retries: retries(), fetch: (request) => (attempts++, fetch(request)) });
    const failed = await paymesh.post('/users', { body: { username: 'x', email: 'x@example.com', password: 'a long passphrase' } }).catch((e: unknown) => e);
    assert.ok(failed instanceof ConnectionError, String(failed));
    assert.equal(failed.status, 0);
    assert.equal(attempts, 4);
  });

  test('a 401 with a token provider: the token is invalidated and the request sent once more with a fresh one', async () => {
    const tokens = ['old', 'new'];
    const invalidated: string[] = [];
    const paymesh = createPaymesh({ baseUrl, retries: retries(), token: { getToken: async () => tokens[0]!, invalidate: (token) => void (invalidated.push(token), tokens.shift()) } });
    script = [error(401, 'authentication_error', 'invalid_token'), error(401, 'authentication_error', 'invalid_token')];
    await assert.rejects(paymesh.get('/wallet'), { name: 'AuthenticationError', code: 'invalid_token' });
    assert.deepEqual(received.map((r) => r.headers.authorization), ['Bearer old', 'Bearer new'], 'once, not in a loop');
    assert.deepEqual(invalidated, ['old']);
    assert.deepEqual(slept, []);
  });

  test('retries: 0 sends once', async () => {
    script = [error(503, 'api_error', 'x'), created];
    await assert.rejects(createPaymesh({ baseUrl, retries: 0 }).get('/wallet'), ApiError);
    assert.equal(received.length, 1);
  });

  test('an abort during the wait ends the request at once', async () => {
    script = [error(503, 'api_error', 'x'), created];
    const controller = new AbortController();
    const paymesh = createPaymesh({ baseUrl, retries: { maxRetries: 3, sleep: async () => controller.abort(new Error('stop')) } });
    await assert.rejects(paymesh.get('/wallet', { signal: controller.signal }), /stop/);
    assert.equal(received.length, 1);
  });
});

test('Retry-After: seconds, an HTTP date (a past one is now), nothing else', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(retryAfterMs('5', now), 5000);
  assert.equal(retryAfterMs(' 0 ', now), 0);
  assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
  assert.equal(retryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  for (const junk of ['', '-1', '1.5', 'soon', '1e3', null]) assert.equal(retryAfterMs(junk, now), undefined, String(junk));
});
