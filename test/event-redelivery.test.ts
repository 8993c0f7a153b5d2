// Events after a fault arrive within seconds, and once: an event handed to a replica that died
// (its connection cut, as kill -9 or a broker restart does) goes to another replica after a short
// ack wait, not 30 s; a live handler slower than the ack wait says it is still working, so the
// event is not handed out twice meanwhile. The broker is reached through a proxy we cut.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { FaultProxy } from '@paymesh/app/testing/fault-proxy';
import { newEvent, type EventEnvelope } from '@paymesh/platform/events/event';
import { NatsTransport } from '@paymesh/platform/events/nats-transport';
import { createLogger } from '@paymesh/platform/logger';
import { eventually, testNatsUrl } from '@paymesh/app/testing';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

const logger = createLogger('test', 'silent');
const stream = `T${randomBytes(5).toString('hex').toUpperCase()}`;

describeOrSkip('redelivery after a fault', testNatsUrl === undefined ? 'needs TEST_NATS_URL' : false, () => {
  const opened: NatsTransport[] = [];
  let publisher: NatsTransport;
  const open = async (url: string, name: string, ackWaitMs?: number) => {
    const transport = await NatsTransport.connect({ url, stream, connectionName: name, logger, ackWaitMs });
    opened.push(transport);
    return transport;
  };

  before(async () => {
    publisher = await open(testNatsUrl!, 'publisher');
  });
  after(async () => {
    try {
      await publisher?.destroyStream();
    } finally {
      for (const transport of opened) await transport.close();
    }
  });

  test('an event handed to a replica whose connection died reaches another replica within seconds, not after 30 s', async () => {
    const proxy = await FaultProxy.start({ port: Number(new URL(testNatsUrl!).port || 4222) });
    try {
      const doomed = await open(proxy.rewrite(testNatsUrl!), 'doomed');
      let entered!: () => void;
      const handed = new Promise<void>((resolve) => (entered = resolve));
      // This replica takes the event and never finishes: it dies holding it.
      await doomed.consume('redelivery.dead', 'orders.placed', () => {
        entered();
        return new Promise<void>(() => {});
      });
      const event = newEvent('orders.placed', { n: 1 }, undefined);
      await publisher.publish(event);
      await handed;
      await proxy.refuse();

      const seen: EventEnvelope[] = [];
      const survivor = await open(testNatsUrl!, 'survivor');
      await survivor.consume('redelivery.dead', 'orders.placed', async (e) => void seen.push(e));
      // Bounded well below the old 30 s ack wait.
      await eventually(async () => (seen.some((e) => e.id === event.id) ? true : undefined), { timeoutMs: 15_000, intervalMs: 50 });
    } finally {
      await proxy.close();
    }
  });

  test('a handler slower than the ack wait keeps its event: it is handled once, not handed out again meanwhile', async () => {
    const consumer = await open(testNatsUrl!, 'slow', 1_000);
    const seen: string[] = [];
    let slowDone = false;
    await consumer.consume('redelivery.slow', 'orders.slow', async (e) => {
      seen.push(e.id);
      if ((e.data as { slow: boolean }).slow) {
        // Three ack waits long; the consumer says it is still working meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        slowDone = true;
      }
    });
    const slow = newEvent('orders.slow', { slow: true }, undefined);
    await publisher.publish(slow);
    await eventually(async () => (slowDone ? true : undefined), { timeoutMs: 15_000 });
    // A marker published once the slow event was handled: a redelivery of the slow event would
    // have been queued before it, so once the marker is seen the slow event's count is final.
    const marker = newEvent('orders.slow', { slow: false }, undefined);
    await publisher.publish(marker);
    await eventually(async () => (seen.includes(marker.id) ? true : undefined), { timeoutMs: 15_000 });
    assert.equal(seen.filter((id) => id === slow.id).length, 1, 'the slow event was handled once');
  });
});
