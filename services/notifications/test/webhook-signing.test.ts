// Webhooks through the gateway, against receivers on loopback: signing across a secret rotation.
// The receiver, the client and the platform every webhook suite shares are in webhook-harness.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { newWebhookSecret, verifyWebhookSignature } from '../src/webhooks/webhook-signature.ts';
import { client, Receiver, signature, signedAtSec, v1Count, webhookSuite } from './webhook-harness.ts';

for (const backend of backends()) {
  describe(`notifications: webhooks, signing (${backend})`, () => {
    const suite = webhookSuite(backend);
    const c = client(() => suite.platform);

    test('during a rotation each delivery carries a v1 for the new and the previous secret; with no overlap only the new one signs', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start();
      const endpoint = await c.endpoint(user.token, receiver.url, ['message']);
      const deliver = async () => {
        const before = receiver.received.length;
        assert.equal((await c.send(suite.adminToken, user.id)).status, 201);
        return eventually(async () => receiver.received[before], { timeoutMs: 5_000 });
      };

      const rotated = await suite.platform.api.call('POST', `/notifications/webhooks/${endpoint.id}/rotate_secret`, { token: user.token, json: { expires_in: 3600 } });
      assert.equal(rotated.status, 200);
      assert.match(rotated.body.secret, /^whsec_/);
      assert.notEqual(rotated.body.secret, endpoint.secret);
      const expiresMs = Date.parse(rotated.body.previous_secret_expires_at);
      assert.ok(Math.abs(expiresMs - (Date.now() + 3_600_000)) < 60_000, rotated.body.previous_secret_expires_at);
      assert.equal((await suite.platform.api.call('GET', `/notifications/webhooks/${endpoint.id}`, { token: user.token })).body.secret, undefined);

      const overlapping = await deliver();
      assert.equal(v1Count(overlapping), 2);
      assert.ok(verifyWebhookSignature(signature(overlapping), overlapping.raw, rotated.body.secret), 'verifies with the new secret');
      assert.ok(verifyWebhookSignature(signature(overlapping), overlapping.raw, endpoint.secret), 'and with the one from creation, alone');
      assert.ok(!verifyWebhookSignature(signature(overlapping), overlapping.raw, newWebhookSecret()));
      // The new secret's v1 comes first.
      const [, first] = signature(overlapping).split(',');
      assert.ok(verifyWebhookSignature(`t=${signedAtSec(overlapping)},${first}`, overlapping.raw, rotated.body.secret));

      const immediate = await suite.platform.api.call('POST', `/notifications/webhooks/${endpoint.id}/rotate_secret`, { token: user.token, json: { expires_in: 0 } });
      assert.equal(immediate.status, 200);
      assert.equal(immediate.body.previous_secret_expires_at, null);
      const after = await deliver();
      assert.equal(v1Count(after), 1);
      assert.ok(verifyWebhookSignature(signature(after), after.raw, immediate.body.secret));
      assert.ok(!verifyWebhookSignature(signature(after), after.raw, rotated.body.secret));
      assert.ok(!verifyWebhookSignature(signature(after), after.raw, endpoint.secret));

      for (const body of [{ expires_in: -1 }, { expires_in: 8 * 86_400 }, { expires_in: '60' }, { expires_in: 1.5 }, { overlap: 60 }]) {
        const refused = await suite.platform.api.call('POST', `/notifications/webhooks/${endpoint.id}/rotate_secret`, { token: user.token, json: body });
        assert.equal(refused.status, 400, JSON.stringify(body));
      }
      const [row] = await queryRows<{ secret: string }>(suite.db, sql`select secret from webhook_endpoints where id = ${endpoint.id}`);
      assert.equal(row!.secret, immediate.body.secret, 'a refused rotation changes nothing');
    });
  });
}
