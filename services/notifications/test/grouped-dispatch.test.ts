// The payment events that arrive together are dispatched together, in a few multi-row statements
// for the whole group (dispatch-message.ts, consumeInGroups): each message must still reach exactly
// its own recipient, through the channels that recipient chose, and none of another's.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { dispatchMessages, type Fanout } from '../src/dispatch/dispatch-message.ts';
import { InboxMetrics } from '../src/inbox/inbox-metrics.ts';
import { emailSuite } from './email-harness.ts';

for (const backend of backends()) {
  describe(`notifications: events dispatched in groups (${backend})`, () => {
    const suite = emailSuite(backend);
    const { signUp, pay, deliveries, count } = suite;
    const api = (method: string, url: string, options: Parameters<typeof suite.platform.api.call>[2]) => suite.platform.api.call(method, url, options);
    const inbox = async (user: { token: string }) => {
      const list = await api('GET', '/notifications/?limit=100', { token: user.token });
      assert.equal(list.status, 200, JSON.stringify(list.body));
      return list.body as { id: number; type: string; data: { payment_id?: string } }[];
    };

    test('payments made at once by several users: each payer gets one notification per payment, through the channels they chose, and nobody gets another\'s', async () => {
      const [ann, bob, cat] = [await signUp(), await signUp(), await signUp()];
      // bob wants no receipt by email; cat has a webhook endpoint for payments.
      assert.equal((await api('PATCH', '/notifications/preferences', { token: bob.token, json: { 'payment.succeeded': { email: false } } })).status, 200);
      const endpoint = await api('POST', '/notifications/webhooks', { token: cat.token, json: { url: `${suite.receiver.url}/${cat.id}`, event_types: ['payment.succeeded'] } });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      const payers = [ann, bob, cat];
      // All at once: their events commit and travel together, so the consumer gets them in groups.
      const paid = await Promise.all(Array.from({ length: 24 }, (_, i) => {
        const payer = payers[i % payers.length]!;
        return pay(payer, `${(i + 1).toFixed(0)}.00`).then((id) => ({ payer, id }));
      }));
      for (const payer of payers) {
        const own = paid.filter((p) => p.payer === payer).map((p) => p.id).sort();
        const seen = await eventually(async () => {
          const ids = (await inbox(payer)).filter((n) => n.type === 'payment.succeeded').map((n) => n.data.payment_id!).sort();
          return ids.length >= own.length ? ids : undefined;
        }, { timeoutMs: 10_000 });
        assert.deepEqual(seen, own, `${payer.username}'s inbox holds exactly their own payments`);
      }
      await suite.platform.settle();
      const channelsOf = async (payer: typeof ann) => {
        const counts: Record<string, number> = {};
        for (const d of await deliveries(payer, '?limit=100')) if (d.type === 'payment.succeeded') counts[d.channel] = (counts[d.channel] ?? 0) + 1;
        return counts;
      };
      assert.deepEqual(await channelsOf(ann), { email: 8 });
      assert.deepEqual(await channelsOf(bob), {});
      assert.deepEqual(await channelsOf(cat), { email: 8, webhook: 8 });
      // Every delivery points at its own recipient's notification.
      assert.equal(await count(sql`select count(*)::int as n from deliveries d join notifications n on n.id = d.notification_id where d.recipient_id <> n.recipient_id`), 0);
    });

    test('a group of messages is dispatched as each would be alone: an erased recipient gets nothing, one recipient twice gets both in order, each recipient\'s choices are their own', async () => {
      const [ann, bob, gone] = [await signUp(), await signUp(), await signUp()];
      assert.equal((await api('PATCH', '/notifications/preferences', { token: bob.token, json: { 'payment.succeeded': { email: false, in_app: false } } })).status, 200);
      assert.equal((await api('DELETE', `/users/${gone.id}`, { token: gone.token })).status, 204);
      await eventually(async () => ((await count(sql`select count(*)::int as n from erased_recipients where user_id = ${String(gone.id)}`)) === 1 ? true : undefined), { timeoutMs: 5_000 });
      const message = (user: { id: number }, n: number) => ({
        recipientId: String(user.id), type: 'payment.succeeded', title: 'Payment received', message: `group message ${n}`, data: { n }, requestId: undefined, traceparent: undefined,
      });
      const fanout: Fanout = { pushPlatforms: new Set(), afterCommit: () => {}, inboxMetrics: new InboxMetrics(new Registry(), () => 0) };
      const dispatched = await suite.db.transaction((tx) => dispatchMessages(tx, [message(ann, 1), message(gone, 2), message(bob, 3), message(ann, 4)], fanout));
      assert.deepEqual(dispatched.map((d) => ({ erased: d.erased, deliveries: d.deliveries, inbox: d.notification !== undefined })), [
        { erased: false, deliveries: 1, inbox: true },
        { erased: true, deliveries: 0, inbox: false },
        // bob switched off the inbox and email for receipts: nothing is recorded for him.
        { erased: false, deliveries: 0, inbox: false },
        { erased: false, deliveries: 1, inbox: true },
      ]);
      const [first, second] = [dispatched[0]!.notification!, dispatched[3]!.notification!];
      assert.deepEqual([first.recipient_id, first.message, second.recipient_id, second.message], [String(ann.id), 'group message 1', String(ann.id), 'group message 4']);
      assert.ok(BigInt(first.id) < BigInt(second.id), 'ids follow the order of the group');
      const rows = await queryRows<{ recipient_id: string; notification_id: string; channel: string }>(suite.db, sql`
        select recipient_id::text, notification_id::text, channel from deliveries where notification_id in (${first.id}, ${second.id}) order by notification_id`);
      assert.deepEqual(rows.map((r) => ({ ...r })), [
        { recipient_id: String(ann.id), notification_id: String(first.id), channel: 'email' },
        { recipient_id: String(ann.id), notification_id: String(second.id), channel: 'email' },
      ]);
      assert.equal(await count(sql`select count(*)::int as n from notifications where recipient_id in (${String(gone.id)}, ${String(bob.id)}) and message like 'group message %'`), 0);
    });
  });
}
