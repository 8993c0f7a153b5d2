// GET /notifications/stream through the gateway: new notifications and the unread count pushed
// live, a count that always ends equal to the database's under concurrent changes, catch-up after
// a reconnect with Last-Event-ID, and nothing of another user's inbox.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, eventually, startDistributedTestPlatform, suitePlatform, testDatabaseUrl, testNatsUrl, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { Stream } from './sse-stream.ts';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

type User = { id: number; token: string };

for (const backend of backends()) {
  describe(`notifications: live stream (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'notifications' });

    const streamUrl = () => `${suite.platform.gatewayUrl}/notifications/stream`;
    const send = async (user: User, message: string) => {
      const response = await suite.platform.api.call('POST', '/notifications', { token: suite.adminToken, json: { user_id: user.id, message } });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      return response.body.id as number;
    };
    const unreadInDb = async (user: User) =>
      Number((await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from notifications where recipient_id = ${String(user.id)} and read_at is null`))[0]!.n);

    test('a stream starts with the unread count, then pushes each new notification with its id and the new count', async () => {
      const alice = await suite.platform.api.signUp();
      await send(alice, 'before the stream');
      const stream = await Stream.open(streamUrl(), alice.token);
      try {
        assert.equal(stream.status, 200);
        await eventually(async () => (stream.lastCount() === 1 ? true : undefined));
        assert.equal(stream.of('notification').length, 0, 'what came before is not replayed to a new stream');
        const id = await send(alice, 'hello live');
        const pushed = await eventually(async () => stream.of('notification').find((e) => e.data.id === id));
        assert.equal(pushed.id, String(id));
        assert.equal(pushed.data.message, 'hello live');
        await eventually(async () => (stream.lastCount() === 2 ? true : undefined));
        assert.equal((await suite.platform.api.call('PUT', `/notifications/${id}/`, { token: alice.token })).status, 200);
        await eventually(async () => (stream.lastCount() === 1 ? true : undefined));
      } finally {
        await stream.close();
      }
    });

    test("under concurrent new notifications and mark-read calls, the stream's last count equals the database's", async () => {
      const bob = await suite.platform.api.signUp();
      const existing: number[] = [];
      for (let i = 0; i < 10; i++) existing.push(await send(bob, `old ${i}`));
      const stream = await Stream.open(streamUrl(), bob.token);
      try {
        await eventually(async () => (stream.lastCount() === 10 ? true : undefined));
        await Promise.all([
          ...Array.from({ length: 20 }, (_, i) => send(bob, `new ${i}`)),
          ...existing.map((id, i) => suite.platform.api.call('PATCH', `/notifications/${id}`, { token: bob.token, json: { read: i % 3 !== 0 } })),
          suite.platform.api.call('POST', '/notifications/mark_all_read', { token: bob.token }),
        ]);
        const expected = await unreadInDb(bob);
        await eventually(async () => (stream.lastCount() === expected ? true : undefined), { timeoutMs: 10_000 });
        // A little later it still agrees: no late, stale count arrives after the right one.
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(stream.lastCount(), await unreadInDb(bob));
        assert.ok(stream.of('unread_count').length > 2, 'counts were pushed while the changes happened');
        assert.equal(new Set(stream.of('notification').map((e) => e.data.id)).size, 20, 'each new notification was pushed once');
      } finally {
        await stream.close();
      }
    });

    test('a reconnect with Last-Event-ID first gets what it missed, in order', async () => {
      const carol = await suite.platform.api.signUp();
      const first = await Stream.open(streamUrl(), carol.token);
      const seen = await send(carol, 'seen');
      await eventually(async () => first.of('notification').find((e) => e.data.id === seen));
      const lastEventId = first.of('notification').at(-1)!.id!;
      await first.close();
      const missed = [await send(carol, 'missed 1'), await send(carol, 'missed 2')];
      const again = await Stream.open(streamUrl(), carol.token, lastEventId);
      try {
        await eventually(async () => (again.of('notification').length >= 2 ? true : undefined));
        assert.deepEqual(again.of('notification').map((e) => e.data.id), missed);
        await eventually(async () => (again.lastCount() === 3 ? true : undefined));
      } finally {
        await again.close();
      }
    });

    test("one user's streams at different positions each get every later notification once, in order, and end on the database's count", async () => {
      const ivan = await suite.platform.api.signUp();
      const before = [await send(ivan, 'old 1'), await send(ivan, 'old 2'), await send(ivan, 'old 3')];
      // Three positions: from now, after the first old one, after the second (a reconnect's catch-up each).
      const streams = await Promise.all([
        Stream.open(streamUrl(), ivan.token), Stream.open(streamUrl(), ivan.token),
        Stream.open(streamUrl(), ivan.token, String(before[0])), Stream.open(streamUrl(), ivan.token, String(before[1])),
      ]);
      try {
        await eventually(async () => (streams.every((s) => s.lastCount() === 3) ? true : undefined));
        // A burst: changes arriving while a push waits its turn are covered by that push.
        const burst = await Promise.all(Array.from({ length: 15 }, (_, i) => send(ivan, `new ${i}`)));
        const sorted = [...burst].sort((a, b) => a - b);
        await eventually(async () => (streams.every((s) => s.lastCount() === 18) ? true : undefined), { timeoutMs: 10_000 });
        const expected = [[], [], before.slice(1), before.slice(2)].map((caughtUp) => [...caughtUp, ...sorted]);
        assert.deepEqual(streams.map((s) => s.of('notification').map((e) => e.data.id)), expected);
        assert.ok(streams.every((s) => s.of('notification').every((e) => e.id === String(e.data.id))), 'each notification carries its id as the SSE event id');
        const read = await suite.platform.api.call('POST', '/notifications/mark_all_read', { token: ivan.token });
        assert.equal(read.status, 200);
        await eventually(async () => (streams.every((s) => s.lastCount() === 0) ? true : undefined));
        assert.equal(await unreadInDb(ivan), 0);
      } finally {
        await Promise.all(streams.map((s) => s.close()));
      }
    });

    test('a reconnect far behind (more than one push holds) gets everything it missed at once, in order, without waiting for another change', async () => {
      const judy = await suite.platform.api.signUp();
      await suite.db.execute(sql`insert into notifications (recipient_id, type, message)
        select ${String(judy.id)}, 'custom', 'missed ' || g from generate_series(1, 1203) g`);
      const stream = await Stream.open(streamUrl(), judy.token, '0');
      try {
        await eventually(async () => (stream.of('notification').length >= 1203 ? true : undefined), { timeoutMs: 15_000 });
        const messages = stream.of('notification').map((e) => e.data.message);
        assert.deepEqual(messages, Array.from({ length: 1203 }, (_, i) => `missed ${i + 1}`));
        assert.equal(stream.lastCount(), 1203);
      } finally {
        await stream.close();
      }
    });

    test('a change that leaves nothing new to show (marking a read notification read again) pushes nothing', async () => {
      const kim = await suite.platform.api.signUp();
      const id = await send(kim, 'read twice');
      const stream = await Stream.open(streamUrl(), kim.token);
      try {
        await eventually(async () => (stream.lastCount() === 1 ? true : undefined));
        assert.equal((await suite.platform.api.call('PUT', `/notifications/${id}/`, { token: kim.token })).status, 200);
        await eventually(async () => (stream.lastCount() === 0 ? true : undefined));
        // Announced again (the update matched the row), but the inbox shows the same.
        assert.equal((await suite.platform.api.call('PUT', `/notifications/${id}/`, { token: kim.token })).status, 200);
        await suite.platform.settle();
        const later = await send(kim, 'after');
        await eventually(async () => stream.of('notification').find((e) => e.data.id === later));
        await eventually(async () => (stream.lastCount() === 1 ? true : undefined));
        assert.deepEqual(stream.of('unread_count').map((e) => e.data.unread), [1, 0, 1]);
      } finally {
        await stream.close();
      }
    });

    test("a stream never carries another user's notifications or count", async () => {
      const dave = await suite.platform.api.signUp();
      const erin = await suite.platform.api.signUp();
      const stream = await Stream.open(streamUrl(), dave.token);
      try {
        await eventually(async () => (stream.lastCount() === 0 ? true : undefined));
        await send(erin, 'for erin only');
        const mine = await send(dave, 'for dave');
        await eventually(async () => stream.of('notification').find((e) => e.data.id === mine));
        assert.deepEqual(stream.of('notification').map((e) => e.data.message), ['for dave']);
        assert.ok(stream.of('unread_count').every((e) => e.data.unread <= 1));
      } finally {
        await stream.close();
      }
    });

    test("a payment's notification is pushed on the payer's stream", async () => {
      const frank = await suite.platform.api.signUp();
      const stream = await Stream.open(streamUrl(), frank.token);
      try {
        await eventually(async () => (stream.lastCount() === 0 ? true : undefined));
        const paid = await suite.platform.api.call('POST', '/payments', { token: frank.token, json: { amount: '12.50', user_id: frank.id } });
        assert.equal(paid.status, 200);
        const pushed = await eventually(async () => stream.of('notification').find((e) => e.data.data.payment_id === paid.body.payment.id));
        assert.equal(pushed.data.message, 'Payment of $12.50 received.');
        await eventually(async () => (stream.lastCount() === 1 ? true : undefined));
      } finally {
        await stream.close();
      }
    });

    test('a user may hold 10 streams open at once; the 11th is 429 until one closes', async () => {
      const henry = await suite.platform.api.signUp();
      const streams = await Promise.all(Array.from({ length: 10 }, () => Stream.open(streamUrl(), henry.token)));
      try {
        assert.deepEqual(streams.map((s) => s.status), Array(10).fill(200));
        const refused = await Stream.open(streamUrl(), henry.token);
        assert.equal(refused.status, 429);
        await streams.pop()!.close();
        const again = await eventually(async () => {
          const attempt = await Stream.open(streamUrl(), henry.token);
          if (attempt.status === 200) return attempt;
          await attempt.close();
          return undefined;
        });
        streams.push(again);
      } finally {
        await Promise.all(streams.map((s) => s.close()));
      }
    });

    test('without a token the stream is 401; a malformed Last-Event-ID is 400', async () => {
      const grace = await suite.platform.api.signUp();
      assert.equal((await Stream.open(streamUrl(), undefined)).status, 401);
      assert.equal((await Stream.open(streamUrl(), 'not-a-token')).status, 401);
      assert.equal((await Stream.open(streamUrl(), grace.token, 'abc')).status, 400);
    });
  });
}

describeOrSkip('notifications: live stream, distributed (one process per service, PostgreSQL, NATS JetStream)', testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL (CI sets them)' : false, () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startDistributedTestPlatform();
  });
  after(async () => {
    await platform?.stop();
  });

  test("inbox.changed crosses NATS: a payment's notification and the count reach the payer's stream", async () => {
    const user = await platform.api.signUp();
    const stream = await Stream.open(`${platform.gatewayUrl}/notifications/stream`, user.token);
    try {
      assert.equal(stream.status, 200);
      await eventually(async () => (stream.lastCount() === 0 ? true : undefined));
      const paid = await platform.api.call('POST', '/payments', { token: user.token, json: { amount: '3.00', user_id: user.id } });
      assert.equal(paid.status, 200);
      const pushed = await eventually(async () => stream.of('notification').find((e) => e.data.data.payment_id === paid.body.payment.id), { timeoutMs: 10_000 });
      assert.equal(pushed.data.message, 'Payment of $3.00 received.');
      await eventually(async () => (stream.lastCount() === 1 ? true : undefined));
      assert.equal((await platform.api.call('POST', '/notifications/mark_all_read', { token: user.token })).status, 200);
      await eventually(async () => (stream.lastCount() === 0 ? true : undefined));
    } finally {
      await stream.close();
    }
  });
});
