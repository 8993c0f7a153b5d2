// Webhooks through the gateway, against receivers on loopback: what a user may see and touch of endpoints and deliveries, what an endpoint must look like, and how many one may hold.
// The receiver, the client and the platform every webhook suite shares are in webhook-harness.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { attempts, client, Receiver, webhookSuite } from './webhook-harness.ts';

for (const backend of backends()) {
  describe(`notifications: webhooks, ownership (${backend})`, () => {
    const suite = webhookSuite(backend);
    const c = client(() => suite.platform);

    test("a user's endpoints and deliveries are their own: another user's ids are 404 everywhere, lists show only one's own", async () => {
      const alice = await suite.platform.api.signUp();
      const bob = await suite.platform.api.signUp();
      const [aliceReceiver, bobReceiver] = await Promise.all([Receiver.start(), Receiver.start()]);
      const aliceEndpoint = await c.endpoint(alice.token, aliceReceiver.url);
      const bobEndpoint = await c.endpoint(bob.token, bobReceiver.url);

      const alicePayment = await c.pay(alice);
      await eventually(async () => aliceReceiver.withData('payment_id', alicePayment)[0], { timeoutMs: 5_000 });
      const aliceDelivery = await c.settled(alice.token, aliceEndpoint.id, 'delivered');
      assert.deepEqual((await c.endpointDeliveries(bob.token, bobEndpoint.id)).body.data, [], "alice's event was recorded for no endpoint of bob's");

      // Every route on alice's endpoint answers bob as if it did not exist.
      const notFound = [
        await suite.platform.api.call('GET', `/notifications/webhooks/${aliceEndpoint.id}`, { token: bob.token }),
        await suite.platform.api.call('PATCH', `/notifications/webhooks/${aliceEndpoint.id}`, { token: bob.token, json: { url: bobReceiver.url } }),
        await suite.platform.api.call('PATCH', `/notifications/webhooks/${aliceEndpoint.id}`, { token: bob.token, json: { disabled: true } }),
        await suite.platform.api.call('POST', `/notifications/webhooks/${aliceEndpoint.id}/rotate_secret`, { token: bob.token, json: { expires_in: 0 } }),
        await suite.platform.api.call('GET', `/notifications/webhooks/${aliceEndpoint.id}/deliveries`, { token: bob.token }),
        await suite.platform.api.call('DELETE', `/notifications/webhooks/${aliceEndpoint.id}`, { token: bob.token }),
      ];
      const unknown = await suite.platform.api.call('GET', '/notifications/webhooks/we_000000000000000000000000', { token: bob.token });
      for (const response of notFound) {
        assert.equal(response.status, 404);
        assert.equal(response.body.error.code, 'webhook_endpoint_not_found');
        assert.deepEqual(response.body, unknown.body, 'the same answer as for an id that does not exist');
      }
      const [stored] = await queryRows<{ url: string; disabled: boolean; secret: string }>(suite.db, sql`select url, disabled, secret from webhook_endpoints where id = ${aliceEndpoint.id}`);
      assert.deepEqual(stored, { url: aliceReceiver.url, disabled: false, secret: aliceEndpoint.secret }, "alice's endpoint is untouched");

      // Lists: one's own endpoints only; deliveries to one's own endpoints only.
      assert.deepEqual((await suite.platform.api.call('GET', '/notifications/webhooks', { token: bob.token })).body.data.map((e: { id: string }) => e.id), [bobEndpoint.id]);
      assert.deepEqual((await suite.platform.api.call('GET', '/notifications/webhooks', { token: alice.token })).body.data.map((e: { id: string }) => e.id), [aliceEndpoint.id]);
      const bobPayment = await c.pay(bob);
      await eventually(async () => bobReceiver.withData('payment_id', bobPayment)[0], { timeoutMs: 5_000 });
      await c.settled(bob.token, bobEndpoint.id, 'delivered');
      for (const query of ['', '?channel=webhook', `?recipient_id=${alice.id}`, `?notification_id=${aliceDelivery.notification_id}`, '?status=delivered&limit=100']) {
        const list = await c.deliveries(bob.token, query);
        assert.equal(list.status, 200, query);
        for (const d of list.body.data) {
          assert.ok(d.channel === 'webhook' ? d.webhook_endpoint_id === bobEndpoint.id : d.recipient_id === bob.id, `${query}: ${JSON.stringify(d)}`);
        }
        assert.ok(!list.body.data.some((d: { id: string }) => d.id === aliceDelivery.id), query);
      }
      assert.equal((await c.deliveries(bob.token, `?starting_after=${aliceDelivery.id}`)).status, 400);

      // One delivery: invisible and not redeliverable; nothing is attempted.
      for (const [method, path] of [['GET', `/notifications/deliveries/${aliceDelivery.id}`], ['POST', `/notifications/deliveries/${aliceDelivery.id}/redeliver`]] as const) {
        const response = await suite.platform.api.call(method, path, { token: bob.token });
        assert.equal(response.status, 404, path);
        assert.equal(response.body.error.code, 'delivery_not_found');
      }
      await suite.platform.settle();
      assert.equal(aliceReceiver.withData('payment_id', alicePayment).length, 1);
      assert.equal((await c.delivery(alice.token, aliceDelivery.id)).body.attempts, 1);

      // An admin may look after anyone's endpoint; that does not make it theirs in their list.
      assert.equal((await suite.platform.api.call('GET', `/notifications/webhooks/${aliceEndpoint.id}`, { token: suite.adminToken })).status, 200);
      assert.equal((await c.delivery(suite.adminToken, aliceDelivery.id)).status, 200);
      assert.ok(!(await suite.platform.api.call('GET', '/notifications/webhooks', { token: suite.adminToken })).body.data.some((e: { id: string }) => e.id === aliceEndpoint.id));
    });

    test('a malformed endpoint is refused with 400 and a stable code, and nothing is stored', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start();
      const stored = () => suite.count(sql`select count(*)::int as n from webhook_endpoints where owner_id = ${String(user.id)}`);
      const cases: [Record<string, unknown>, string, string][] = [
        [{ event_types: ['*'] }, 'parameter_missing', 'url'],
        [{ url: receiver.url }, 'parameter_missing', 'event_types'],
        [{ url: 'ftp://files.example.com/hook', event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: 'javascript:alert(1)', event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: 'not a url at all', event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: receiver.url.replace('http://', 'http://user:pass@'), event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: receiver.url.replace('http://', 'http://token@'), event_types: ['*'] }, 'url_not_allowed', 'url'],
        [{ url: `http://x/${'a'.repeat(2048)}`, event_types: ['*'] }, 'parameter_invalid', 'url'],
        [{ url: receiver.url, event_types: [] }, 'parameter_invalid', 'event_types'],
        [{ url: receiver.url, event_types: '*' }, 'parameter_invalid', 'event_types'],
        [{ url: receiver.url, event_types: ['payment.exploded'] }, 'event_type_unknown', 'event_types'],
        [{ url: receiver.url, event_types: ['payment.succeeded', 'admin.message'] }, 'event_type_unknown', 'event_types'],
        [{ url: receiver.url, event_types: ['account.password_reset'] }, 'event_type_unknown', 'event_types'],
        [{ url: receiver.url, event_types: ['account.verify_email'] }, 'event_type_unknown', 'event_types'],
        [{ url: receiver.url, event_types: ['*'], description: 'd'.repeat(501) }, 'parameter_invalid', 'description'],
        [{ url: receiver.url, event_types: ['*'], secret: 'whsec_chosen_by_me' }, 'parameter_unknown', 'secret'],
        [{ url: receiver.url, event_types: ['*'], all_users: 'yes' }, 'parameter_invalid', 'all_users'],
      ];
      for (const [body, code, param] of cases) {
        const response = await c.createEndpoint(user.token, body);
        const label = JSON.stringify(body).slice(0, 80);
        assert.equal(response.status, 400, label);
        assert.equal(response.body.error.code, code, label);
        assert.equal(response.body.error.param, param, label);
      }
      assert.equal(await stored(), 0);
      assert.equal((await c.createEndpoint(user.token, { url: receiver.url, event_types: ['*'] })).status, 201, 'the same user may still register a good one');

      const endpoint = (await suite.platform.api.call('GET', '/notifications/webhooks', { token: user.token })).body.data[0];
      for (const [body, code] of [[{}, 'parameter_invalid'], [{ event_types: ['nope'] }, 'event_type_unknown'], [{ url: 'ftp://files.example.com/x' }, 'url_not_allowed'], [{ secret: 'x' }, 'parameter_unknown'], [{ disabled: 'true' }, 'parameter_invalid']] as const) {
        const response = await suite.platform.api.call('PATCH', `/notifications/webhooks/${endpoint.id}`, { token: user.token, json: body });
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.equal(response.body.error.code, code, JSON.stringify(body));
      }
      assert.deepEqual((await suite.platform.api.call('GET', `/notifications/webhooks/${endpoint.id}`, { token: user.token })).body, endpoint, 'unchanged');
      assert.equal((await suite.platform.api.call('POST', '/notifications/webhooks', { json: { url: receiver.url, event_types: ['*'] } })).status, 401);
    });

    test('a user may hold 16 endpoints, even when 20 are created at once; the 17th is refused', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start();
      const responses = await Promise.all(Array.from({ length: 20 }, () => c.createEndpoint(user.token, { url: receiver.url, event_types: ['message'] })));
      assert.equal(responses.filter((r) => r.status === 201).length, 16);
      for (const r of responses.filter((r) => r.status !== 201)) {
        assert.equal(r.status, 400);
        assert.equal(r.body.error.code, 'too_many_webhook_endpoints');
      }
      assert.equal(await suite.count(sql`select count(*)::int as n from webhook_endpoints where owner_id = ${String(user.id)}`), 16);
      const first = responses.find((r) => r.status === 201)!.body;
      assert.equal((await suite.platform.api.call('DELETE', `/notifications/webhooks/${first.id}`, { token: user.token })).status, 204);
      assert.equal((await suite.platform.api.call('DELETE', `/notifications/webhooks/${first.id}`, { token: user.token })).status, 404, 'deleted once');
      assert.equal((await c.createEndpoint(user.token, { url: receiver.url, event_types: ['message'] })).status, 201, 'room again after a delete');
    });
  });
}
