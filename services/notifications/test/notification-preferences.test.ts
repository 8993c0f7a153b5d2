// Notifications through the gateway, against a real database and a real SMTP exchange with an
// in-process sink: preferences: what the user switched off is not sent. The platform and helpers
// the suites share are in email-harness.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { emailSuite, type User } from './email-harness.ts';

for (const backend of backends()) {
  describe(`notifications: email, preferences, account messages and erasure (${backend})`, () => {
    const suite = emailSuite(backend);
    const { signUp, send, pay, mailsTo, mailTo, deliveries, inboxFor, count, notificationsForPayment, emailDeliveriesOf } = suite;

    describe('preferences', () => {
      const preferences = async (user: User) => {
        const response = await suite.platform.api.call('GET', '/notifications/preferences', { token: user.token });
        assert.equal(response.status, 200);
        return response.body as { object: string; types: { type: string; locked: boolean; channels: Record<string, boolean> }[] };
      };
      const patch = (user: User, json: unknown) => suite.platform.api.call('PATCH', '/notifications/preferences', { token: user.token, json });
      const channelsOf = (prefs: Awaited<ReturnType<typeof preferences>>, type: string) => prefs.types.find((t) => t.type === type)!.channels;
      const storedRows = (user: User) => queryRows<{ type: string; channel: string; enabled: boolean }>(suite.db, sql`select type, channel, enabled from preferences where user_id = ${String(user.id)} order by type, channel`);

      test('every channel of every type is on by default, and the catalogue is listed', async () => {
        const frank = await signUp();
        const prefs = await preferences(frank);
        assert.equal(prefs.object, 'notification_preferences');
        assert.ok(prefs.types.length >= 8);
        for (const t of prefs.types) for (const [channel, on] of Object.entries(t.channels)) assert.equal(on, true, `${t.type}.${channel}`);
        assert.deepEqual(channelsOf(prefs, 'payment.succeeded'), { in_app: true, email: true, push: true });
        assert.deepEqual(channelsOf(prefs, 'account.password_reset'), { email: true });
        assert.equal(prefs.types.find((t) => t.type === 'account.password_reset')!.locked, true);
      });

      test('payment emails switched off send none while the inbox still gets the notification; switched on, they come back', async () => {
        const grace = await signUp();
        const off = await patch(grace, { 'payment.succeeded': { email: false } });
        assert.equal(off.status, 200, JSON.stringify(off.body));
        assert.deepEqual(channelsOf(off.body, 'payment.succeeded'), { in_app: true, email: false, push: true });
        assert.deepEqual(channelsOf(await preferences(grace), 'payment.succeeded'), { in_app: true, email: false, push: true });

        const silent = await pay(grace, '11.00');
        const notification = await eventually(() => inboxFor(grace, silent), { timeoutMs: 2_000 });
        assert.equal(notification.type, 'payment.succeeded');
        assert.equal(await emailDeliveriesOf(grace), 0);
        // Other types are not affected: a refund still goes by email.
        assert.deepEqual(channelsOf(off.body, 'refund.succeeded'), { in_app: true, email: true, push: true });

        const on = await patch(grace, { 'payment.succeeded': { email: true } });
        assert.equal(on.status, 200);
        assert.equal(channelsOf(on.body, 'payment.succeeded').email, true);
        const loud = await pay(grace, '12.00');
        await mailTo(grace, (m) => m.text.includes('$12.00'));
        assert.equal(mailsTo(grace).length, 1, 'only the payment made while email was on');
        assert.equal(await emailDeliveriesOf(grace), 1);
        const [sentFor] = await deliveries(grace, '?channel=email');
        assert.equal(sentFor!.notification_id, (await inboxFor(grace, loud))!.id);
      });

      test('in_app switched off: no inbox notification, but the email still goes (without a notification id)', async () => {
        const henry = await signUp();
        assert.equal((await patch(henry, { 'payment.succeeded': { in_app: false } })).status, 200);
        const paymentId = await pay(henry, '13.00');
        await mailTo(henry, (m) => m.text.includes('$13.00'));
        assert.equal(await inboxFor(henry, paymentId), undefined);
        assert.equal(await notificationsForPayment(paymentId), 0);
        const [email] = await eventually(async () => {
          const found = await deliveries(henry, '?channel=email&status=delivered');
          return found.length === 1 ? found : undefined;
        });
        assert.equal(email!.notification_id, null);
      });

      test('a locked (security) type cannot be switched off: 400 preference_locked, and nothing changes', async () => {
        const ivy = await signUp();
        assert.equal((await patch(ivy, { 'refund.succeeded': { push: false } })).status, 200);
        const before = await preferences(ivy);
        const rowsBefore = await storedRows(ivy);
        const cases: Record<string, unknown>[] = [
          { 'account.password_reset': { email: false } },
          { 'security.new_login': { in_app: false } },
          { 'security.password_changed': { email: false, in_app: true } },
          // one refused change refuses the whole request: the allowed one is not applied either
          { 'payment.succeeded': { email: false }, 'account.verify_email': { email: false } },
        ];
        for (const body of cases) {
          const response = await patch(ivy, body);
          assert.equal(response.status, 400, JSON.stringify(body));
          assert.equal(response.body.error.code, 'preference_locked', JSON.stringify(body));
        }
        assert.deepEqual(await preferences(ivy), before);
        assert.deepEqual(await storedRows(ivy), rowsBefore);
        // Switching a locked one "on" is harmless and changes nothing that matters.
        assert.equal((await patch(ivy, { 'account.password_reset': { email: true } })).status, 200);
        assert.deepEqual(channelsOf(await preferences(ivy), 'account.password_reset'), { email: true });
      });

      test('an unknown channel, a channel the type is not sent on, and malformed bodies are 400 with a stable code', async () => {
        const jack = await signUp();
        const before = await storedRows(jack);
        const cases: [unknown, number, string, string | undefined][] = [
          [{ 'payment.succeeded': { sms: false } }, 400, 'parameter_unknown', 'payment.succeeded.sms'],
          [{ 'payment.succeeded': { webhook: false } }, 400, 'parameter_unknown', 'payment.succeeded.webhook'],
          [{ 'account.password_reset': { in_app: true } }, 400, 'channel_not_offered', 'account.password_reset.in_app'],
          [{ 'security.password_changed': { push: false } }, 400, 'channel_not_offered', 'security.password_changed.push'],
          [{ message: { email: false } }, 400, 'channel_not_offered', 'message.email'],
          [{}, 400, 'parameter_invalid', 'body'],
          [{ 'payment.succeeded': {} }, 400, 'parameter_invalid', 'payment.succeeded'],
          [{ 'payment.succeeded': { email: 'false' } }, 400, 'parameter_invalid', 'payment.succeeded.email'],
          [{ 'payment.succeeded': { email: 0 } }, 400, 'parameter_invalid', 'payment.succeeded.email'],
          [{ 'payment.succeeded': { email: null } }, 400, 'parameter_invalid', 'payment.succeeded.email'],
          [{ 'payment.succeeded': false }, 400, 'parameter_invalid', 'payment.succeeded'],
          // keys outside the type-name pattern are unknown whatever their value (null once crashed the handler)
          [{ 'Payment Succeeded': { email: false } }, 400, 'parameter_unknown', 'Payment Succeeded'],
          [{ 'Payment Succeeded': null }, 400, 'parameter_unknown', 'Payment Succeeded'],
          [{ [`a${'z'.repeat(300)}`]: { in_app: false } }, 400, 'parameter_unknown', `a${'z'.repeat(300)}`],
          [{ 'payment.succeeded': { email: false }, Other: 5 }, 400, 'parameter_unknown', 'Other'],
          [[{ 'payment.succeeded': { email: false } }], 400, 'parameter_invalid', 'body'],
          ['"payment.succeeded"', 400, 'parameter_invalid', 'body'],
          ['not json', 400, 'body_malformed', undefined],
        ];
        for (const [body, status, code, param] of cases) {
          const response = await patch(jack, body);
          const label = JSON.stringify(body);
          assert.equal(response.status, status, label);
          assert.equal(response.body.error.code, code, `${label}: ${JSON.stringify(response.body)}`);
          if (param !== undefined) assert.equal(response.body.error.param, param, label);
        }
        assert.equal((await suite.platform.api.call('PATCH', '/notifications/preferences', { json: { 'payment.succeeded': { email: false } } })).status, 401);
        assert.deepEqual(await storedRows(jack), before);
      });

      test('a custom type follows the user\'s choices for "message", and preferences for a type outside the catalogue are 400 type_unknown', async () => {
        const ivy = await signUp();
        const unknown = await patch(ivy, { 'promo.spring_sale': { in_app: false } });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.body.error.code, 'type_unknown');
        assert.deepEqual(await storedRows(ivy), []);
        assert.equal((await patch(ivy, { message: { in_app: false } })).status, 200);
        const sent = await send({ user_id: ivy.id, type: 'promo.spring_sale', message: 'Spring sale' });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        assert.equal(sent.body.in_app, false);
        assert.equal(await count(sql`select count(*)::int as n from notifications where recipient_id = ${String(ivy.id)}`), 0);
      });

      test("one user's preferences never affect another's", async () => {
        const kim = await signUp();
        const lee = await signUp();
        // Webhooks follow their endpoint, not preferences: kim's shows when her payment was handled.
        const endpoint = await suite.platform.api.call('POST', '/notifications/webhooks', { token: kim.token, json: { url: `${suite.receiver.url}/kim`, event_types: ['payment.succeeded'] } });
        assert.equal(endpoint.status, 201);
        assert.equal((await patch(kim, { 'payment.succeeded': { email: false, in_app: false, push: false }, 'refund.succeeded': { email: false } })).status, 200);
        const leePrefs = await preferences(lee);
        for (const t of leePrefs.types) for (const on of Object.values(t.channels)) assert.equal(on, true);
        const paymentId = await pay(lee, '14.00');
        await mailTo(lee, (m) => m.text.includes('$14.00'));
        await eventually(() => inboxFor(lee, paymentId), { timeoutMs: 2_000 });
        // and kim's payment reaches neither her inbox nor her email
        const kimsPayment = await pay(kim, '15.00');
        await eventually(async () => ((await deliveries(kim, '?channel=webhook')).length === 1 ? true : undefined));
        assert.equal(await notificationsForPayment(kimsPayment), 0);
        assert.equal(await emailDeliveriesOf(kim), 0);
        assert.equal(mailsTo(kim).length, 0);
      });
    });

  });
}
