// Webhooks through the gateway: the URL guard, at registration and at send time, on a platform
// with WEBHOOKS_ALLOW_PRIVATE_NETWORKS=false (webhook-harness.ts holds what the suites share).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { client, countRows, env, Receiver, webhookSuite } from './webhook-harness.ts';

// The guard does not depend on the database: one platform of its own is enough, on PostgreSQL
// when there is one (it starts in a few seconds where PGlite takes many more).
for (const backend of [backends().at(-1)!]) {
  describe(`notifications: webhook targets on private networks are refused (${backend}, WEBHOOKS_ALLOW_PRIVATE_NETWORKS=false)`, () => {
    // A platform of its own with the guard on.
    const suite = webhookSuite(backend, { ...env, WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'false' });
    const c = client(() => suite.platform);

    test('loopback, private, link-local and localhost URLs are refused at registration and on update, and nothing is stored', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start();
      const refused = [receiver.url, 'http://10.0.0.1/', 'http://169.254.169.254/latest/meta-data/', 'http://localhost/', 'http://localhost:8080/x',
        'http://app.localhost/', 'http://[::1]/', 'http://0x7f000001/', 'http://192.168.1.10/hook', 'https://[::ffff:10.0.0.1]/'];
      for (const url of refused) {
        const response = await c.createEndpoint(user.token, { url, event_types: ['*'] });
        assert.equal(response.status, 400, url);
        assert.equal(response.body.error.code, 'url_not_allowed', url);
        assert.equal(response.body.error.param, 'url', url);
      }
      const owned = () => countRows(suite.db, sql`select count(*)::int as n from webhook_endpoints where owner_id = ${String(user.id)}`);
      assert.equal(await owned(), 0);
      // A public literal address needs no lookup: it is allowed, but cannot be moved inside.
      const endpoint = await c.endpoint(user.token, 'https://93.184.216.34/hooks', ['message']);
      const moved = await suite.platform.api.call('PATCH', `/notifications/webhooks/${endpoint.id}`, { token: user.token, json: { url: receiver.url } });
      assert.equal(moved.status, 400);
      assert.equal(moved.body.error.code, 'url_not_allowed');
      assert.equal((await queryRows<{ url: string }>(suite.db, sql`select url from webhook_endpoints where id = ${endpoint.id}`))[0]!.url, 'https://93.184.216.34/hooks');
    });

    test('an endpoint whose target became private is dead at its first attempt, and the target is never called', async () => {
      const user = await suite.platform.api.signUp();
      const receiver = await Receiver.start();
      const endpoint = await c.endpoint(user.token, 'https://93.184.216.34/hooks', ['message']);
      // What a changed DNS answer would do: the registered target now leads to loopback.
      await suite.db.execute(sql`update webhook_endpoints set url = ${receiver.url} where id = ${endpoint.id}`);
      assert.equal((await c.send(suite.adminToken, user.id)).status, 201);
      const dead = await c.settled(user.token, endpoint.id, 'dead', 5_000);
      assert.equal(dead.attempts, 1);
      assert.match(dead.last_error, /^target refused \(private_address\)/);
      assert.deepEqual((await c.delivery(user.token, dead.id)).body.attempt_log.map((a: any) => [a.outcome, a.status_code]), [['failed', null]]);
      assert.equal(receiver.received.length, 0);
    });
  });
}
