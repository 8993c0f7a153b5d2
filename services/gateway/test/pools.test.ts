// The gateway's pools (ADR 28) on a real platform with small limits: live streams have a budget of
// their own per replica (503 streams_full past it, a closed stream frees its place) and never take
// the connections API requests need; an API request that finds its upstream's pool full waits a
// bounded time and is answered 503 upstream_busy instead of hanging (issue 18), while other
// upstreams and the streams are served. 127.0.0.1 only; every loop bounded in count and time.
import assert from 'node:assert/strict';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { after, describe, test } from 'node:test';
import { backends, eventually, suitePlatform } from '@paymesh/app/testing';
import { openStream, type OpenedStream } from './open-stream.ts';

const maxStreams = 4;
const upstreamConnections = 2;

/**
 * An API request that holds its connection to notifications: a body announced and sent only in
 * part (a slow upload), which the service waits for. `release` abandons it.
 */
function slowUpload(gatewayUrl: string, token: string): { release: () => void } {
  const { hostname, port } = new URL(gatewayUrl);
  const req: ClientRequest = httpRequest({
    host: hostname, port, method: 'POST', path: '/notifications/mark_all_read',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': '64' },
  });
  req.on('error', () => {}); // abandoned on purpose
  req.write('{');
  return { release: () => req.destroy() };
}

/** A series of the gateway's pools as its metrics port serves it, summed over pools unless `pool` names one. */
async function gauge(metricsUrl: string, name: string, pool?: string): Promise<number> {
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
  return text.split('\n')
    .filter((line) => line.startsWith(`${name}{`) && (pool === undefined || line.includes(`pool="${pool}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

for (const backend of backends()) {
  describe(`gateway pools (${backend})`, () => {
    const suite = suitePlatform(backend, {
      users: ['alice', 'bob'],
      // More streams than API connections: were they one pool, the held streams would starve the API.
      env: { MAX_STREAMS: String(maxStreams), UPSTREAM_CONNECTIONS: String(upstreamConnections), UPSTREAM_WAIT_MS: '2000' },
    });
    const held: OpenedStream[] = [];
    const closeHeld = () => {
      for (const stream of held.splice(0)) stream.close();
    };
    after(closeHeld);
    const metricsUrl = () => `http://127.0.0.1:${suite.platform.embedded!.plan.gatewayMetrics}/metrics`;

    test('streams open up to MAX_STREAMS; the next is 503 streams_full with Retry-After, and a closed stream frees its place', async () => {
      try {
        for (let i = 0; i < maxStreams; i++) {
          const stream = await openStream(suite.platform.gatewayUrl, { token: (i % 2 === 0 ? suite.alice : suite.bob).token });
          assert.equal(stream.status, 200, `stream ${i + 1}`);
          held.push(stream);
        }
        // Every spelling the stream is served under is counted (the router ignores a trailing slash).
        for (const path of ['/notifications/stream', '/notifications/stream/', '/notifications/stream?x=1']) {
          const refused = await openStream(suite.platform.gatewayUrl, { token: suite.alice.token, path });
          assert.equal(refused.status, 503, path);
          assert.equal(refused.body.error.code, 'streams_full');
          assert.ok(Number(refused.headers['retry-after']) > 0);
        }
        assert.equal(await gauge(metricsUrl(), 'gateway_open_streams'), maxStreams);
        assert.equal(await gauge(metricsUrl(), 'gateway_pool_refusals_total', 'streams'), 3);
        held.shift()!.close();
        let reopened: OpenedStream | undefined;
        for (let attempt = 0; attempt < 50 && reopened?.status !== 200; attempt++) {
          reopened = await openStream(suite.platform.gatewayUrl, { token: suite.bob.token });
          if (reopened.status !== 200) await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(reopened?.status, 200, 'a place is free again once a stream closed');
        held.push(reopened!);
      } finally {
        closeHeld();
      }
    });

    test('with every stream place held, more streams than the API has connections, the notifications API still answers 200 and a payment reaches its stream', async () => {
      try {
        const streams: { stream: OpenedStream; events: string[] }[] = [];
        for (let i = 0; i < maxStreams; i++) {
          const { hostname, port } = new URL(suite.platform.gatewayUrl);
          const events: string[] = [];
          const stream = await new Promise<OpenedStream>((resolve, reject) => {
            const req = httpRequest({ host: hostname, port, path: '/notifications/stream', headers: { authorization: `Bearer ${suite.alice.token}` } }, (res) => {
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => events.push(chunk));
              resolve({ status: res.statusCode ?? 0, body: undefined, headers: res.headers, close: () => req.destroy() });
            });
            req.on('error', reject);
            req.end();
          });
          assert.equal(stream.status, 200);
          held.push(stream);
          streams.push({ stream, events });
        }
        // Sequential and, up to the pool's size, concurrent API calls: none waits behind a stream.
        for (let i = 0; i < 3 * upstreamConnections; i++) {
          assert.equal((await suite.platform.api.call('GET', '/notifications/', { token: suite.alice.token, timeoutMs: 5_000 })).status, 200);
        }
        const concurrent = await Promise.all(Array.from({ length: upstreamConnections }, () => suite.platform.api.call('GET', '/notifications/unread_count', { token: suite.bob.token, timeoutMs: 5_000 })));
        assert.deepEqual(concurrent.map((r) => r.status), Array(upstreamConnections).fill(200));
        const paid = await suite.platform.api.call('POST', '/payments', { token: suite.alice.token, json: { amount: 3, user_id: suite.alice.id }, timeoutMs: 5_000 });
        assert.equal(paid.status, 200);
        await eventually(async () => (streams.every(({ events }) => events.join('').includes('event: notification')) ? true : undefined), { timeoutMs: 10_000 });
      } finally {
        closeHeld();
      }
    });

    test('an API request that finds its upstream\'s pool full is 503 upstream_busy with Retry-After after a bounded wait; other upstreams and streams are served meanwhile', async () => {
      const uploads = Array.from({ length: upstreamConnections }, () => slowUpload(suite.platform.gatewayUrl, suite.alice.token));
      try {
        await eventually(async () => ((await gauge(metricsUrl(), 'gateway_upstream_requests_in_flight', 'notifications')) >= upstreamConnections ? true : undefined));
        // timeoutMs: were the request queued without a bound, the client's own limit would end it.
        const refused = await suite.platform.api.call('GET', '/notifications/', { token: suite.bob.token, timeoutMs: 10_000 });
        assert.equal(refused.status, 503);
        assert.equal(refused.body.error.code, 'upstream_busy');
        assert.ok(Number(refused.headers.get('retry-after')) > 0);
        assert.equal(await gauge(metricsUrl(), 'gateway_pool_refusals_total', 'notifications'), 1);
        // The pool is per upstream, and streams have their own.
        assert.equal((await suite.platform.api.call('GET', '/payments', { token: suite.bob.token, timeoutMs: 5_000 })).status, 200);
        const stream = await openStream(suite.platform.gatewayUrl, { token: suite.bob.token });
        held.push(stream);
        assert.equal(stream.status, 200);
      } finally {
        for (const upload of uploads) upload.release();
        closeHeld();
      }
      await eventually(async () => ((await suite.platform.api.call('GET', '/notifications/', { token: suite.bob.token, timeoutMs: 5_000 })).status === 200 ? true : undefined));
    });

    test('a request waiting for a place gets the one a finished request frees, in the wait', async () => {
      const uploads = Array.from({ length: upstreamConnections }, () => slowUpload(suite.platform.gatewayUrl, suite.alice.token));
      try {
        await eventually(async () => ((await gauge(metricsUrl(), 'gateway_upstream_requests_in_flight', 'notifications')) >= upstreamConnections ? true : undefined));
        const waiting = suite.platform.api.call('GET', '/notifications/', { token: suite.bob.token, timeoutMs: 10_000 });
        await eventually(async () => ((await gauge(metricsUrl(), 'gateway_upstream_requests_waiting')) === 1 ? true : undefined), { intervalMs: 5 });
        uploads[0]!.release();
        assert.equal((await waiting).status, 200);
      } finally {
        for (const upload of uploads) upload.release();
      }
    });
  });
}
