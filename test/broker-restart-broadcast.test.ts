// Revocations reach every replica through a broadcast subscription (an ordered consumer). When the
// broker restarts, the ordered consumer is recreated from where it was; it must keep following
// the stream, and never take the process down (nats.js kept the replay's start time beside the
// new start sequence, the broker refused the pair and the rejection was unhandled: issue 12 §4's
// "auth, users and notifications exit 1 after a NATS kill -9").
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { natsServerBinary, startNatsServer } from '@paymesh/app/nats-server';
import { eventually } from '@paymesh/app/testing';
import { newEvent, type EventEnvelope } from '@paymesh/platform/events/event';
import { NatsTransport } from '@paymesh/platform/events/nats-transport';
import { createLogger } from '@paymesh/platform/logger';

const skip = existsSync(natsServerBinary) ? false : `needs ${natsServerBinary}`;

test('a broadcast subscriber follows the stream across a broker kill -9 and restart, and the process lives on', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paymesh-broker-'));
  const server = await startNatsServer(dir);
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const transport = await NatsTransport.connect({ url: server.url, stream: 'BROADCAST', connectionName: 'test', logger: createLogger('test', 'silent') });
  const seen: string[] = [];
  const before = newEvent('revoked.token', { jti: 'before' }, undefined);
  await transport.publish(before);
  const subscription = await transport.broadcast('revoked.token', async (event: EventEnvelope) => void seen.push(event.id), { replayMs: 60_000 });
  try {
    await eventually(async () => (seen.includes(before.id) ? true : undefined));

    await server.stop('SIGKILL');
    await server.start();
    // Published once the client is back: the recreated consumer must deliver it.
    const later = newEvent('revoked.token', { jti: 'after' }, undefined);
    await eventually(async () => (await transport.publish(later).then(() => true, () => undefined)), { timeoutMs: 30_000 });
    await eventually(async () => (seen.includes(later.id) ? true : undefined), { timeoutMs: 30_000 });
    assert.deepEqual(seen.filter((id) => id === before.id).length, 1, 'the event before the restart is not delivered again');
    assert.deepEqual(unhandled, [], 'no rejection escaped the transport');
  } finally {
    await subscription.stop();
    await transport.close();
  }
});
