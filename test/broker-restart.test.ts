// A NATS outage delays notifications by seconds after the broker is back, not by the relay's or
// the consumers' long backoffs: payments made while the broker is away are notified, each once,
// soon after it returns. The broker is reached through a proxy we refuse and restore.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultProxy } from '@paymesh/app/testing/fault-proxy';
import { eventually, startDistributedTestPlatform, testDatabaseUrl, testNatsUrl } from '@paymesh/app/testing';

const skip = testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL' : false;

test('payments made while NATS is away are notified once, within seconds of its return', { skip }, async () => {
  const nats = await FaultProxy.start({ port: Number(new URL(testNatsUrl!).port || 4222) });
  try {
    await notifiedAfterOutage(nats);
  } finally {
    // Closed even when the platform never started: an open proxy would keep the test running.
    await nats.close();
  }
});

async function notifiedAfterOutage(nats: FaultProxy): Promise<void> {
  const platform = await startDistributedTestPlatform({ natsProxy: nats });
  try {
    const { api } = platform;
    const user = await api.signUp();
    const pay = () => api.call('POST', '/payments', { token: user.token, json: { amount: '1.00', user_id: user.id } });
    await nats.refuse();
    const paid: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await pay();
      assert.equal(response.status, 200, JSON.stringify(response.body));
      paid.push(response.body.payment.id);
    }
    // Long enough for the relay's retries to grow (the old cap was 60 s).
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    await nats.restore();
    const restoredAt = Date.now();
    const notified = await eventually(async () => {
      const list = await api.call('GET', '/notifications?limit=100', { token: user.token });
      if (list.status !== 200) return undefined;
      const ids: string[] = list.body.map((n: { data: { payment_id?: string } }) => n.data.payment_id).filter((id: string | undefined) => id !== undefined);
      return paid.every((id) => ids.includes(id)) ? ids : undefined;
    }, { timeoutMs: 20_000, intervalMs: 100 });
    console.log(`notified ${Date.now() - restoredAt} ms after the broker returned`);
    assert.equal(notified.length, new Set(notified).size, 'each payment notified once');
  } finally {
    await platform.stop();
  }
}
