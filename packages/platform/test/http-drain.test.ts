// A request that races a graceful shutdown gets an answer it can act on, never a reset: once the
// server starts closing, new requests (on a kept-alive connection or a new one) get 503
// shutting_down with Connection: close and Retry-After, requests in flight finish, and only then
// does the listener close.
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import { test } from 'node:test';
import { createHttpServer } from '../src/http-server.ts';
import { createLogger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: any;
}

function get(port: number, path: string, agent: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error('no answer')));
    req.end();
  });
}

test('requests racing a graceful shutdown get 503 shutting_down with Connection: close and Retry-After, and requests in flight finish', async () => {
  const app = createHttpServer({ logger: createLogger('test', 'silent'), metrics: createMetrics('drain-test'), readiness: [], trustedProxies: [], drainMs: 30_000 });
  let entered!: () => void;
  const inHandler = new Promise<void>((resolve) => (entered = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  app.get('/slow', { config: { public: true } }, async () => {
    entered();
    await released;
    return { finished: true };
  });
  app.get('/fast', { config: { public: true } }, async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  const slowAgent = new Agent({ keepAlive: true });
  try {
    // A connection left idle in keep-alive, the one a client reuses as the server stops.
    assert.equal((await get(port, '/fast', keptAlive)).status, 200);
    const slow = get(port, '/slow', slowAgent);
    await inHandler;

    const closing = app.close();
    // The first requests may still come before the close begins; each must be answered, and
    // within a bounded number of tries they are refused with shutting_down.
    let refused: Answer | undefined;
    for (let attempt = 0; attempt < 200 && refused === undefined; attempt++) {
      const answer = await get(port, '/fast', keptAlive);
      if (answer.status === 503) refused = answer;
      else assert.equal(answer.status, 200);
    }
    assert.ok(refused !== undefined, 'a request during the drain is refused');
    assert.equal(refused.body.error.code, 'shutting_down');
    assert.equal(refused.headers.connection, 'close');
    assert.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After is set');
    // A new connection during the drain is answered the same way.
    const fresh = await get(port, '/fast', new Agent({ keepAlive: false }));
    assert.equal(fresh.status, 503);
    assert.equal(fresh.body.error.code, 'shutting_down');

    release();
    const finished = await slow;
    assert.equal(finished.status, 200, 'the request in flight finished');
    assert.deepEqual(finished.body, { finished: true });
    await closing;
    await assert.rejects(get(port, '/fast', new Agent({ keepAlive: false })), /ECONNREFUSED/, 'after the drain the listener is closed');
  } finally {
    release();
    keptAlive.destroy();
    slowAgent.destroy();
    await app.close();
  }
});
