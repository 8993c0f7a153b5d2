// The in-app inbox through the gateway: who may send, who may read and mark, the contract's
// shapes, filters and pagination, and the idempotent consumer that turns payment.succeeded events
// into notifications exactly once.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually, suitePlatform } from '@paymesh/app/testing';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import { queryRows, sql } from '@paymesh/platform/db/open-database';

type User = { id: number; token: string };

for (const backend of backends()) {
  describe(`notifications: inbox (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'notifications', users: ['alice', 'bob'] });

    const send = (body: Record<string, unknown>, token = suite.adminToken) => suite.platform.api.call('POST', '/notifications', { token, json: body });
    const inbox = (user: User, query = '') => suite.platform.api.call('GET', `/notifications/${query}`, { token: user.token });
    const notificationCount = async (recipient: number) =>
      Number((await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from notifications where recipient_id = ${String(recipient)}`))[0]!.n);

    describe('sending', () => {
      test('a notification sent by an admin appears in the user\'s inbox in the contract shape', async () => {
        const message = `hello ${randomBytes(4).toString('hex')}`;
        const sent = await send({ user_id: suite.alice.id, message, title: 'Greeting', type: 'admin.message', data: { k: 'v' } });
        assert.equal(sent.status, 201);
        assert.equal(typeof sent.body.id, 'number');
        const list = await inbox(suite.alice);
        assert.equal(list.status, 200);
        assert.ok(Array.isArray(list.body));
        const found = list.body.find((n: { id: number }) => n.id === sent.body.id);
        assert.ok(found, 'the notification is in the inbox');
        assert.deepEqual(Object.keys(found).slice(0, 4), ['id', 'message', 'sent_at', 'read_at']);
        assert.equal(found.message, message);
        assert.equal(found.read_at, null);
        assert.ok(!Number.isNaN(Date.parse(found.sent_at)));
        assert.equal(found.title, 'Greeting');
        assert.equal(found.type, 'admin.message');
        assert.deepEqual(found.data, { k: 'v' });
        // and nobody else's
        assert.ok(!(await inbox(suite.bob)).body.some((n: { id: number }) => n.id === sent.body.id));
      });

      test('an ordinary user cannot send a notification, not even to themself (403), and nothing is stored', async () => {
        const before = [await notificationCount(suite.bob.id), await notificationCount(suite.alice.id)];
        for (const userId of [suite.bob.id, suite.alice.id]) {
          const response = await send({ user_id: userId, message: 'spoofed' }, suite.bob.token);
          assert.equal(response.status, 403);
          assert.equal(response.body.error.type, 'permission_error');
        }
        assert.deepEqual([await notificationCount(suite.bob.id), await notificationCount(suite.alice.id)], before);
      });

      test('sending without a token is 401 Authorization header missing', async () => {
        const response = await suite.platform.api.call('POST', '/notifications', { json: { user_id: suite.alice.id, message: 'x' } });
        assert.equal(response.status, 401);
        assert.equal(response.body.message, 'Authorization header missing');
      });

      test('the body is validated: unknown fields, missing or empty message, bad user_id or type are 400', async () => {
        const before = await notificationCount(suite.alice.id);
        const cases: [Record<string, unknown>, string, string][] = [
          [{ user_id: suite.alice.id, message: 'x', read_at: null }, 'parameter_unknown', 'read_at'],
          [{ user_id: suite.alice.id, message: 'x', recipient_id: suite.bob.id }, 'parameter_unknown', 'recipient_id'],
          [{ user_id: suite.alice.id }, 'parameter_missing', 'message'],
          [{ message: 'x' }, 'parameter_missing', 'user_id'],
          [{ user_id: suite.alice.id, message: '' }, 'parameter_invalid', 'message'],
          [{ user_id: suite.alice.id, message: 'm'.repeat(2001) }, 'parameter_invalid', 'message'],
          [{ user_id: 0, message: 'x' }, 'parameter_invalid', 'user_id'],
          [{ user_id: 9_007_199_254_740_992, message: 'x' }, 'parameter_invalid', 'user_id'],
          [{ user_id: String(suite.alice.id), message: 'x' }, 'parameter_invalid', 'user_id'],
          [{ user_id: suite.alice.id, message: 'x', type: 'Not A Type' }, 'parameter_invalid', 'type'],
        ];
        for (const [body, code, param] of cases) {
          const response = await send(body);
          assert.equal(response.status, 400, JSON.stringify(body).slice(0, 60));
          assert.equal(response.body.error.code, code, JSON.stringify(body).slice(0, 60));
          assert.equal(response.body.error.param, param, JSON.stringify(body).slice(0, 60));
        }
        assert.equal(await notificationCount(suite.alice.id), before);
      });
    });

    describe('marking as read', () => {
      test('PUT /notifications/<id>/ marks it read; a second PUT keeps the first read_at', async () => {
        const sent = await send({ user_id: suite.alice.id, message: 'read me' });
        const first = await suite.platform.api.call('PUT', `/notifications/${sent.body.id}/`, { token: suite.alice.token });
        assert.equal(first.status, 200);
        assert.deepEqual(first.body, { message: 'Notification marked as read.' });
        const readAt = (await inbox(suite.alice)).body.find((n: { id: number }) => n.id === sent.body.id).read_at;
        assert.notEqual(readAt, null);
        await new Promise((resolve) => setTimeout(resolve, 20));
        const second = await suite.platform.api.call('PUT', `/notifications/${sent.body.id}`, { token: suite.alice.token });
        assert.equal(second.status, 200);
        assert.deepEqual(second.body, { message: 'Notification marked as read.' });
        assert.equal((await inbox(suite.alice)).body.find((n: { id: number }) => n.id === sent.body.id).read_at, readAt);
      });

      test("PUT of another user's notification is 404 and leaves it unread; an admin cannot mark it either", async () => {
        const sent = await send({ user_id: suite.alice.id, message: 'private' });
        for (const token of [suite.bob.token, suite.adminToken]) {
          const response = await suite.platform.api.call('PUT', `/notifications/${sent.body.id}/`, { token });
          assert.equal(response.status, 404);
          assert.equal(response.body.error.code, 'notification_not_found');
        }
        const [row] = await queryRows<{ read_at: unknown }>(suite.db, sql`select read_at from notifications where id = ${String(sent.body.id)}`);
        assert.equal(row!.read_at, null);
      });

      test('PUT of an unknown or non-numeric id is 404 with the same body as another user\'s', async () => {
        const sent = await send({ user_id: suite.alice.id, message: 'x' });
        const foreign = await suite.platform.api.call('PUT', `/notifications/${sent.body.id}/`, { token: suite.bob.token });
        for (const id of ['987654321', 'abc', '0', '-1', '01', '1.5', '1e3', '9007199254740993', '99999999999999999999']) {
          const response = await suite.platform.api.call('PUT', `/notifications/${id}/`, { token: suite.alice.token });
          assert.equal(response.status, 404, id);
          assert.deepEqual(response.body, foreign.body, id);
        }
      });

      test('PUT of a long non-numeric id is 404 like any unknown id', async () => {
        const response = await suite.platform.api.call('PUT', `/notifications/${'x'.repeat(21)}/`, { token: suite.alice.token });
        assert.equal(response.status, 404);
      });

      test('PUT without a token is 401', async () => {
        const response = await suite.platform.api.call('PUT', '/notifications/1/');
        assert.equal(response.status, 401);
        assert.equal(response.body.message, 'Authorization header missing');
      });
    });

    describe('listing', () => {
      test('unread=true lists only unread notifications', async () => {
        const carol = await suite.platform.api.signUp();
        const ids: number[] = [];
        for (let i = 0; i < 3; i++) ids.push((await send({ user_id: carol.id, message: `n${i}` })).body.id);
        assert.equal((await suite.platform.api.call('PUT', `/notifications/${ids[1]}/`, { token: carol.token })).status, 200);
        const unread = await inbox(carol, '?unread=true');
        assert.equal(unread.status, 200);
        assert.deepEqual(unread.body.map((n: { id: number }) => n.id), [ids[2], ids[0]]);
        for (const n of unread.body) assert.equal(n.read_at, null);
        assert.equal((await inbox(carol)).body.length, 3);
        assert.equal((await inbox(carol, '?unread=yes')).status, 400);
      });

      test('limit and starting_after page through the inbox newest first, each once, with paymesh-has-more', async () => {
        const dave = await suite.platform.api.signUp();
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) ids.push((await send({ user_id: dave.id, message: `page ${i}` })).body.id);
        const seen: number[] = [];
        const hasMore: string[] = [];
        let cursor: number | undefined;
        for (let page = 0; page < 10; page++) {
          const response = await inbox(dave, `?limit=2${cursor === undefined ? '' : `&starting_after=${cursor}`}`);
          assert.equal(response.status, 200);
          assert.ok(response.body.length <= 2);
          seen.push(...response.body.map((n: { id: number }) => n.id));
          hasMore.push(String(response.headers.get('paymesh-has-more')));
          if (response.headers.get('paymesh-has-more') !== 'true') break;
          cursor = response.body.at(-1).id;
        }
        assert.deepEqual(seen, [...ids].reverse());
        assert.deepEqual(hasMore, ['true', 'true', 'false']);
      });

      test('limit outside 1..100 and unknown query parameters are 400', async () => {
        for (const query of ['?limit=0', '?limit=101', '?limit=abc', '?limit=-1', '?starting_after=abc', '?starting_after=0', '?page=2']) {
          const response = await inbox(suite.alice, query);
          assert.equal(response.status, 400, query);
        }
      });

      test("starting_after another user's notification id is refused with 400 param starting_after", async () => {
        const bobs = await send({ user_id: suite.bob.id, message: 'not yours' });
        const response = await inbox(suite.alice, `?starting_after=${bobs.body.id}`);
        assert.equal(response.status, 400);
        assert.equal(response.body.error.param, 'starting_after');
      });

      test("starting_after another user's id never reveals that user's notifications", async () => {
        const bobs = await send({ user_id: suite.bob.id, message: 'not yours either' });
        const response = await inbox(suite.alice, `?starting_after=${bobs.body.id + 1}`);
        const own = new Set((await queryRows<{ id: string }>(suite.db, sql`select id from notifications where recipient_id = ${String(suite.alice.id)}`)).map((r) => Number(r.id)));
        assert.ok(response.status === 200 || response.status === 400, String(response.status));
        for (const n of response.status === 200 ? response.body : []) assert.ok(own.has(n.id), `foreign notification ${n.id}`);
      });

      test('an inbox without a token is 401; a bad token is 401 Invalid token', async () => {
        assert.equal((await suite.platform.api.call('GET', '/notifications/')).body.message, 'Authorization header missing');
        const bad = await suite.platform.api.call('GET', '/notifications/', { token: 'x.y.z' });
        assert.equal(bad.status, 401);
        assert.equal(bad.body.message, 'Invalid token');
      });
    });

    describe('payment.succeeded events', () => {
      const paymentEvent = (userId: number, paymentId = `pay_${randomBytes(8).toString('hex')}`): EventEnvelope => ({
        id: randomUUID(),
        subject: 'payment.succeeded',
        occurredAt: new Date().toISOString(),
        requestId: undefined,
        // A whole payment.succeeded as payments publishes it: the consumer checks it against the contract.
        data: { payment_id: paymentId, user_id: userId, status: 'succeeded', amount_minor: '500', amount_received: '500', amount_refunded: '0', currency: 'USD', amount_display: '$5.00', payment_method_type: 'card' },
      });
      const forPayment = async (paymentId: string) =>
        queryRows<{ id: string; recipient_id: string; message: string }>(suite.db, sql`select id, recipient_id, message from notifications where data->>'payment_id' = ${paymentId}`);

      test('a redelivered payment.succeeded event creates one notification only', async () => {
        const transport = suite.platform.embedded!.services.notifications.runtime.transport;
        const event = paymentEvent(suite.alice.id);
        await transport.publish(event);
        await transport.publish(event);
        await transport.publish({ ...event, occurredAt: new Date().toISOString() });
        const rows = await forPayment((event.data as { payment_id: string }).payment_id);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.recipient_id, String(suite.alice.id));
        assert.equal(rows[0]!.message, 'Payment of $5.00 received.');
        const [inboxRow] = await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from inbox where consumer = 'notifications' and event_id = ${event.id}`);
        assert.equal(Number(inboxRow!.n), 1);
        const listed = (await inbox(suite.alice)).body.filter((n: { data: { payment_id?: string } }) => n.data.payment_id === (event.data as { payment_id: string }).payment_id);
        assert.equal(listed.length, 1);
      });

      test('the same event delivered twice at the same moment still creates one notification', async () => {
        const transport = suite.platform.embedded!.services.notifications.runtime.transport;
        const event = paymentEvent(suite.bob.id);
        const results = await Promise.allSettled(Array.from({ length: 5 }, () => transport.publish(event)));
        // a losing delivery may fail and be retried by the transport; what counts is the effect
        assert.ok(results.some((r) => r.status === 'fulfilled'));
        assert.equal((await forPayment((event.data as { payment_id: string }).payment_id)).length, 1);
      });

      test('a real payment puts exactly one notification in the payer\'s inbox', async () => {
        const paid = await suite.platform.api.call('POST', '/payments', { token: suite.alice.token, json: `{"amount": 42.10, "user_id": ${suite.alice.id}}` });
        assert.equal(paid.status, 200);
        const paymentId: string = paid.body.payment.id;
        const notification = await eventually(async () => {
          const list = await inbox(suite.alice);
          return list.body.find((n: { data: { payment_id?: string } }) => n.data.payment_id === paymentId);
        }, { timeoutMs: 2_000 });
        assert.equal(notification.message, 'Payment of $42.10 received.');
        assert.equal(notification.data.amount, '4210');
        assert.equal(notification.data.currency, 'usd');
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal((await forPayment(paymentId)).length, 1);
      });

      test("a declined payment tells the payer why, and a refund tells them it is on its way", async () => {
        const declined = await suite.platform.api.call('POST', '/payments', { token: suite.alice.token, json: { amount: '7.00', user_id: suite.alice.id, payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' } });
        assert.equal(declined.status, 402);
        const failedId: string = declined.body.error.payment.id;
        const failed = await eventually(async () => (await inbox(suite.alice)).body.find((n: { type: string; data: { payment_id?: string } }) => n.type === 'payment.failed' && n.data.payment_id === failedId));
        assert.equal(failed.title, 'Payment failed');
        assert.equal(failed.message, 'Your payment of $7.00 failed: the card has insufficient funds.');

        const paid = await suite.platform.api.call('POST', '/payments', { token: suite.alice.token, json: { amount: '20.00', user_id: suite.alice.id } });
        const refund = await suite.platform.api.call('POST', `/payments/${paid.body.payment.id}/refunds`, { token: suite.adminToken, json: { amount: '5.00' } });
        assert.equal(refund.status, 200);
        const refunded = await eventually(async () => (await inbox(suite.alice)).body.find((n: { type: string; data: { refund_id?: string } }) => n.type === 'refund.succeeded' && n.data.refund_id === refund.body.id));
        assert.equal(refunded.title, 'Refund issued');
        assert.equal(refunded.message, 'A refund of $5.00 is on its way to you.');
        assert.equal(refunded.data.payment_id, paid.body.payment.id);
      });
    });

    describe('managing the inbox', () => {
      const unreadCount = async (user: User) => {
        const response = await suite.platform.api.call('GET', '/notifications/unread_count', { token: user.token });
        assert.equal(response.status, 200);
        return response.body.unread as number;
      };
      const fresh = async () => {
        const user = await suite.platform.api.signUp();
        const ids: number[] = [];
        for (let i = 0; i < 3; i++) ids.push((await send({ user_id: user.id, message: `note ${i}` })).body.id);
        return { user, ids };
      };

      test('the unread count follows marking read, unread, all read and deleting, and always equals the table', async () => {
        const { user, ids } = await fresh();
        assert.equal(await unreadCount(user), 3);
        const read = await suite.platform.api.call('PATCH', `/notifications/${ids[0]}`, { token: user.token, json: { read: true } });
        assert.equal(read.status, 200);
        assert.notEqual(read.body.read_at, null);
        assert.equal(await unreadCount(user), 2);
        const unread = await suite.platform.api.call('PATCH', `/notifications/${ids[0]}`, { token: user.token, json: { read: false } });
        assert.equal(unread.status, 200);
        assert.equal(unread.body.read_at, null);
        assert.equal(await unreadCount(user), 3);
        assert.equal((await suite.platform.api.call('DELETE', `/notifications/${ids[1]}`, { token: user.token })).status, 204);
        assert.equal(await unreadCount(user), 2);
        assert.equal((await inbox(user)).body.length, 2);
        const all = await suite.platform.api.call('POST', '/notifications/mark_all_read', { token: user.token });
        assert.equal(all.status, 200);
        assert.equal(all.body.updated, 2);
        assert.equal(await unreadCount(user), 0);
        const [row] = await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from notifications where recipient_id = ${String(user.id)} and read_at is null`);
        assert.equal(Number(row!.n), 0);
      });

      test('the unread count kept beside each inbox equals its unread rows after concurrent sends, reads, unreads and deletes', async () => {
        const { user, ids } = await fresh();
        const more = Array.from({ length: 12 }, (_, i) => send({ user_id: user.id, message: `burst ${i}` }));
        const changes = [
          suite.platform.api.call('PATCH', `/notifications/${ids[0]}`, { token: user.token, json: { read: true } }),
          suite.platform.api.call('DELETE', `/notifications/${ids[1]}`, { token: user.token }),
          suite.platform.api.call('POST', '/notifications/mark_all_read', { token: user.token }),
        ];
        await Promise.all([...more, ...changes]);
        await suite.platform.api.call('PATCH', `/notifications/${ids[0]}`, { token: user.token, json: { read: false } });
        const [{ n }] = await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from notifications where recipient_id = ${String(user.id)} and read_at is null`) as [{ n: number }];
        assert.equal(await unreadCount(user), Number(n));
        const drifted = await queryRows(suite.db, sql`
          select h.recipient_id, h.unread, coalesce(c.n, 0) as counted from inbox_heads h
          left join (select recipient_id, count(*) filter (where read_at is null) as n from notifications group by recipient_id) c using (recipient_id)
          where h.unread <> coalesce(c.n, 0)`);
        assert.deepEqual(drifted, [], 'no inbox\'s kept count differs from its rows');
      });

      test("another user's notification cannot be marked, unmarked or deleted (404), and mark all read touches only the caller's", async () => {
        const { user, ids } = await fresh();
        const other = await suite.platform.api.signUp();
        for (const [method, json] of [['PATCH', { read: true }], ['PATCH', { read: false }], ['DELETE', undefined]] as const) {
          const response = await suite.platform.api.call(method, `/notifications/${ids[2]}`, { token: other.token, json });
          assert.equal(response.status, 404, `${method} ${JSON.stringify(json)}`);
          assert.equal(response.body.error.code, 'notification_not_found');
        }
        assert.equal((await suite.platform.api.call('POST', '/notifications/mark_all_read', { token: other.token })).body.updated, 0);
        assert.equal(await unreadCount(user), 3);
        assert.equal((await inbox(user)).body.length, 3);
      });

      test('a malformed PATCH body, an unknown id and a request without a token are refused', async () => {
        const { user, ids } = await fresh();
        assert.equal((await suite.platform.api.call('PATCH', `/notifications/${ids[0]}`, { token: user.token, json: { read: 'yes' } })).status, 400);
        assert.equal((await suite.platform.api.call('PATCH', `/notifications/${ids[0]}`, { token: user.token, json: { read: true, recipient_id: 1 } })).status, 400);
        assert.equal((await suite.platform.api.call('DELETE', '/notifications/999999999', { token: user.token })).status, 404);
        assert.equal((await suite.platform.api.call('GET', '/notifications/unread_count')).status, 401);
        assert.equal(await unreadCount(user), 3);
      });
    });
  });
}
