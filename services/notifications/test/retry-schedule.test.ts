// The delivery retry schedule: what operators configure, and the default that keeps trying a
// receiver for more than a day (a webhook endpoint down over a weekend night still gets its events).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@paymesh/platform/config';
import { notificationsConfigSpec } from '../src/config.ts';

const load = (env: Record<string, string>) => loadConfig(notificationsConfigSpec, { SERVICE_CLIENT_SECRET: 'x'.repeat(32), ...env }).config;

test('the default retry schedule keeps trying for at least 24 hours, with growing delays', () => {
  const delays = load({}).retryDelaysMs;
  const totalHours = delays.reduce((a, b) => a + b, 0) / 3_600_000;
  assert.ok(totalHours >= 24, `only ${totalHours} h`);
  for (let i = 1; i < delays.length; i++) assert.ok(delays[i]! >= delays[i - 1]!, 'delays never shrink');
});

test('NOTIFICATIONS_RETRY_DELAYS takes ms, s, m and h', () => {
  assert.deepEqual(load({ NOTIFICATIONS_RETRY_DELAYS: '50ms, 2s,1.5m,1h' }).retryDelaysMs, [50, 2000, 90_000, 3_600_000]);
});

test('a malformed retry schedule stops the service at boot with the key named', () => {
  assert.throws(() => load({ NOTIFICATIONS_RETRY_DELAYS: '5 minutes' }), /NOTIFICATIONS_RETRY_DELAYS/);
});

test('half a push configuration is refused rather than silently off', async () => {
  const { pushProviders } = await import('../src/push/push-providers.ts');
  const unusedCheck = async () => { throw new Error('not called'); };
  assert.throws(() => pushProviders(load({ APNS_KEY: 'k' }), unusedCheck), /APNS_KEY, APNS_KEY_ID/);
  assert.throws(() => pushProviders(load({ VAPID_PUBLIC_KEY: 'k' }), unusedCheck), /VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY/);
  assert.deepEqual(pushProviders(load({}), unusedCheck), { android: undefined, ios: undefined, web: undefined });
});
