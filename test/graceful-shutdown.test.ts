// Stopping the platform (what Ctrl-C does in `npm start`) lets in-flight requests finish and
// loses no event: whatever the outbox held is delivered during the stop or after the restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startEmbedded } from '@paymesh/app/start-embedded';
import { adminPassword, Api, eventually } from '@paymesh/app/testing';

const env = { ...process.env, LOG_LEVEL: 'silent', BOOTSTRAP_ADMIN_PASSWORD: adminPassword, DATABASE_URL: undefined, NATS_URL: undefined };

test('requests in flight when the platform stops complete, and every payment still reaches the inbox after a restart', async () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'paymesh-shutdown-'));
  try {
    const first = await startEmbedded({ env: { ...env, BOOTSTRAP_ADMIN_PASSWORD_FILE: join(dataRoot, 'admin.txt'), EMAIL_OUTBOX_DIR: join(dataRoot, 'mail') }, ports: 'random', dataRoot });
    const api = new Api(first.gatewayUrl);
    const user = await api.signUp('shutdown_user');
    const count = 20;
    const inFlight = Array.from({ length: count }, (_, i) => api.call('POST', '/payments', { token: user.token, json: { amount: `${i + 1}.00`, user_id: user.id } }));
    // Stop while the others are on their way or being handled: as soon as the first one answers
    // (a fixed delay let a loaded machine stop before any request had arrived).
    await Promise.race(inFlight);
    const stopping = first.stop();
    const responses = await Promise.allSettled(inFlight);
    await stopping;
    const accepted = responses.filter((r) => r.status === 'fulfilled' && r.value.status === 200).map((r) => (r as PromiseFulfilledResult<{ body: { payment: { id: string } } }>).value.body.payment.id);
    for (const r of responses) {
      // A request either completed or was refused before it was accepted (503 while closing, or
      // a refused connection): never cut off half way with a 5xx from a closed database.
      if (r.status === 'fulfilled') assert.ok([200, 503].includes(r.value.status), `unexpected status ${r.value.status}`);
    }
    assert.ok(accepted.length > 0, 'some requests were in flight and finished');

    const second = await startEmbedded({ env: { ...env, BOOTSTRAP_ADMIN_PASSWORD_FILE: join(dataRoot, 'admin.txt'), EMAIL_OUTBOX_DIR: join(dataRoot, 'mail') }, ports: 'random', dataRoot });
    try {
      const api2 = new Api(second.gatewayUrl);
      const token = await api2.login(user.username, user.password);
      const notified = await eventually(async () => {
        const list = await api2.call('GET', '/notifications?limit=100', { token });
        const ids = new Set(list.body.map((n: { data: { payment_id: string } }) => n.data.payment_id));
        return accepted.every((id) => ids.has(id)) ? list.body.length : undefined;
      }, { timeoutMs: 5_000 });
      assert.equal(notified, accepted.length, 'one notification per accepted payment, none twice');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
});
