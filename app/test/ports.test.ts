// Random port plans (tests, benchmarks): every port of a plan is different and lies below the
// kernel's ephemeral range, so no outgoing connection can take it before its service binds it.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePorts, highest, lowest, refusedByFetch } from '../src/free-ports.ts';
import { planPorts } from '../src/ports.ts';

test('a random port plan never gives two listeners the same port, and stays below the ephemeral range', async () => {
  for (let i = 0; i < 20; i++) {
    const plan = await planPorts('random');
    const ports = [plan.gateway, plan.gatewayMetrics, ...Object.values(plan.http), ...Object.values(plan.metrics)];
    assert.equal(new Set(ports).size, ports.length, `plan ${i}: ${ports.join(', ')}`);
    for (const port of ports) assert.ok(port >= 10_000 && port < 32_768, `port ${port}`);
  }
});

test('a port someone is listening on is never handed out', async () => {
  const taken = await freePorts(30);
  const servers = await Promise.all(taken.map((port) => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  })));
  try {
    for (let i = 0; i < 10; i++) {
      for (const port of await freePorts(10)) assert.ok(!taken.includes(port), `port ${port} is in use`);
    }
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
});

test('the ports fetch() refuses ("bad port") are left out of plans: fetch really refuses each of them, and not their neighbours', async () => {
  const outcome = async (port: number) => {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
      return 'answered';
    } catch (error) {
      return (error as { cause?: { message?: string } }).cause?.message === 'bad port' ? 'bad port' : 'not refused';
    }
  };
  for (const port of refusedByFetch) {
    assert.ok(port >= lowest && port < highest, `${port} lies outside the plans' range`);
    assert.equal(await outcome(port), 'bad port', String(port));
    assert.notEqual(await outcome(port + 1), 'bad port', String(port + 1));
  }
});
