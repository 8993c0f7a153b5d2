// Notifications through the gateway, against a real database and a real SMTP exchange with an
// in-process sink: account messages: single-use links that never reach the inbox or a webhook, and
// who may send them. The platform and helpers the suites share are in email-harness.ts.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { emailSuite } from './email-harness.ts';

for (const backend of backends()) {
  describe(`notifications: email, preferences, account messages and erasure (${backend})`, () => {
    const suite = emailSuite(backend);
    const { signUp, send, mailsTo, mailTo, deliveries, delivery, count, emailDeliveriesOf } = suite;

    describe('account messages', () => {
      test('a password reset link arrives by email intact, never reaches the inbox or a webhook, and is erased once sent', async () => {
        const carol = await signUp();
        const own = await suite.platform.api.call('POST', '/notifications/webhooks', { token: carol.token, json: { url: `${suite.receiver.url}/carol`, event_types: ['*'] } });
        assert.equal(own.status, 201, JSON.stringify(own.body));
        const everyone = await suite.platform.api.call('POST', '/notifications/webhooks', { token: suite.adminToken, json: { url: `${suite.receiver.url}/admin`, event_types: ['*'], all_users: true } });
        assert.equal(everyone.status, 201, JSON.stringify(everyone.body));
        try {
          const token = randomBytes(24).toString('base64url');
          const actionUrl = `http://localhost:8080/reset?token=${token}&user=${carol.id}`;
          const sent = await send({
            user_id: carol.id,
            type: 'account.password_reset',
            title: 'Reset your password',
            message: 'Someone asked to reset your password. If it was you, choose a new one with the link below.',
            data: { action_url: actionUrl, action_label: 'Choose a new password' },
          }, suite.serviceToken);
          assert.equal(sent.status, 202, JSON.stringify(sent.body));
          assert.deepEqual(sent.body, { object: 'message', type: 'account.password_reset', in_app: false, deliveries: 1 });

          const mail = await mailTo(carol, (m) => m.headers.get('subject') === 'Reset your password');
          const links = mail.text.match(/https?:\/\/\S+/g) ?? [];
          assert.deepEqual(links, [actionUrl], 'the text part carries the link once, exactly as sent');
          assert.match(mail.text, /Choose a new password: http/);
          const escaped = actionUrl.replaceAll('&', '&amp;');
          assert.ok(mail.html.includes(`href="${escaped}"`), 'the HTML links to it, with & escaped');
          assert.ok(!mail.html.includes(actionUrl), 'no unescaped & in the HTML');
          assert.match(mail.html, />Choose a new password</);

          // Not in the inbox, neither through the API nor in the table.
          const list = await suite.platform.api.call('GET', '/notifications/', { token: carol.token });
          assert.deepEqual(list.body, []);
          assert.equal(await count(sql`select count(*)::int as n from notifications where recipient_id = ${String(carol.id)}`), 0);

          // The delivery finishes, and its content (the link) is gone.
          const [email] = await eventually(async () => {
            const found = await deliveries(carol, '?channel=email&status=delivered');
            return found.length === 1 ? found : undefined;
          });
          assert.equal(email!.type, 'account.password_reset');
          assert.equal(email!.notification_id, null);
          const [stored] = await queryRows<{ payload: unknown }>(suite.db, sql`select payload from deliveries where id = ${email!.id}`);
          assert.equal(stored!.payload, null);
          assert.equal(await count(sql`select count(*)::int as n from deliveries where payload::text like ${`%${token}%`}`), 0);
          const redeliver = await suite.platform.api.call('POST', `/notifications/deliveries/${email!.id}/redeliver`, { token: carol.token });
          assert.equal(redeliver.status, 409);
          assert.equal(redeliver.body.error.code, 'delivery_not_redeliverable');
          assert.equal((await delivery(carol, email!.id)).body.status, 'delivered');

          // The webhooks work (an ordinary message reaches both) yet never saw the link.
          const marker = `control ${randomBytes(4).toString('hex')}`;
          // An id no notification of this suite reaches: on a fresh platform this one may well be number 1.
          const claimedId = 2_147_483_647;
          assert.equal((await send({ user_id: carol.id, message: marker, data: { user_id: 1, notification_id: claimedId, ref: 'r1' } })).status, 201);
          const controls = await eventually(async () => {
            const found = suite.receiver.bodies.filter((b) => b.includes(marker));
            return found.length === 2 ? found : undefined;
          });
          for (const body of controls) {
            // the sender's data never relabels whom the event is about
            const event = JSON.parse(body) as { type: string; data: Record<string, unknown> };
            assert.equal(event.type, 'message');
            assert.equal(event.data.user_id, carol.id);
            assert.notEqual(event.data.notification_id, claimedId);
            assert.equal(event.data.ref, 'r1');
          }
          assert.ok(!suite.receiver.bodies.some((b) => b.includes(token) || b.includes('account.password_reset')));
          assert.equal(await count(sql`select count(*)::int as n from deliveries where channel = 'webhook' and type = 'account.password_reset'`), 0);
          assert.equal(await emailDeliveriesOf(carol), 1, 'a "message" is never emailed');
          assert.equal(mailsTo(carol).length, 1);
        } finally {
          await suite.platform.api.call('DELETE', `/notifications/webhooks/${everyone.body.id}`, { token: suite.adminToken });
        }
      });

      test("the users service's account events become their emails: verify your email, reset your password, password changed; a new sign-in reaches the inbox too", async () => {
        const erin = await signUp();
        const transport = suite.platform.embedded!.services.notifications.runtime.transport;
        const publish = (subject: string, data: Record<string, unknown>) =>
          transport.publish({ id: randomUUID(), subject, occurredAt: new Date().toISOString(), requestId: undefined, data: { user_id: erin.id, ...data } });
        const expiresAt = new Date(Date.now() + 15 * 60_000).toISOString();
        const verifyUrl = `http://localhost:8080/users/verify-email?token=${randomBytes(24).toString('base64url')}`;
        const resetUrl = `http://localhost:8080/users/password-reset/confirm?token=${randomBytes(24).toString('base64url')}`;
        // The link events name the address their link was made for (ADR 10).
        const address = `${erin.username}@example.com`;
        await publish('user.email_verification_requested', { email: address, action_url: verifyUrl, expires_at: expiresAt });
        await publish('user.password_reset_requested', { email: address, action_url: resetUrl, expires_at: expiresAt });
        await publish('user.password_changed', {});
        await publish('user.new_login', { ip: '203.0.113.9', user_agent: 'curl/8.5' });

        const verify = await mailTo(erin, (m) => m.headers.get('subject') === 'Confirm your email address' && m.text.includes(verifyUrl));
        assert.deepEqual(verify.text.match(/https?:\/\/\S+/g), [verifyUrl]);
        assert.match(verify.text, /Confirm email address: http/);
        assert.match(verify.text, /It expires at /);
        const reset = await mailTo(erin, (m) => m.headers.get('subject') === 'Reset your password');
        assert.deepEqual(reset.text.match(/https?:\/\/\S+/g), [resetUrl]);
        assert.match(reset.text, /If not, ignore this email/);
        await mailTo(erin, (m) => m.headers.get('subject') === 'Your password was changed');
        const login = await mailTo(erin, (m) => m.headers.get('subject') === 'New sign-in to your account');
        assert.match(login.text, /curl\/8\.5 \(203\.0\.113\.9\)/);
        // The links never reach the inbox; the security notices do. (A password change ends every
        // session, at auth: a fresh login reads the inbox.)
        const token = await suite.platform.api.login(erin.username, erin.password);
        const inbox = await eventually(async () => {
          const list = (await suite.platform.api.call('GET', '/notifications/', { token })).body as { type: string; message: string }[];
          return list.length === 2 ? list : undefined;
        });
        assert.deepEqual(inbox.map((n) => n.type).sort(), ['security.new_login', 'security.password_changed']);
        assert.ok(inbox.every((n) => !n.message.includes('token=')));
      });

      test('a link event is mailed only to the address it names, and only while that address is the account\'s; one naming none is not mailed', async () => {
        const gail = await signUp();
        const transport = suite.platform.embedded!.services.notifications.runtime.transport;
        const publish = (subject: string, data: Record<string, unknown>) =>
          transport.publish({ id: randomUUID(), subject, occurredAt: new Date().toISOString(), requestId: undefined, data: { user_id: gail.id, ...data } });
        const link = (n: string) => `http://localhost:8080/users/verify-email?token=${n}${randomBytes(24).toString('base64url')}`;
        const [elsewhere, unbound, own] = [link('a'), link('b'), link('c')];
        const stranger = `stranger-${gail.username}@example.com`;
        // An address that is not the account's (neither current nor waiting for confirmation).
        await publish('user.email_verification_requested', { email: stranger, action_url: elsewhere });
        // No address at all (an event from before links named theirs): never sent to whatever address the account has.
        await publish('user.password_reset_requested', { action_url: unbound });
        await publish('user.email_verification_requested', { email: `${gail.username}@example.com`, action_url: own });
        await mailTo(gail, (m) => m.text.includes(own));
        const canceled = await eventually(async () => {
          const rows = await queryRows<{ status: string; last_error: string | null }>(suite.db, sql`select status, last_error from deliveries where recipient_id = ${String(gail.id)} and status = 'canceled'`);
          return rows.length === 1 ? rows : undefined;
        });
        assert.match(canceled[0]!.last_error ?? '', /no longer the account's/);
        assert.equal(suite.sink.received.filter((m) => m.rcptTo.includes(stranger)).length, 0);
        assert.ok(!suite.sink.received.some((m) => m.raw.includes(unbound.slice(-20)) || m.raw.includes(elsewhere.slice(-20))));
        assert.equal(await count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(gail.id)} and type = 'account.password_reset'`), 0);
      });

      test('an account event whose link is not an http(s) URL sends nothing (logged), and does not block the events after it', async () => {
        const finn = await signUp();
        const transport = suite.platform.embedded!.services.notifications.runtime.transport;
        await transport.publish({ id: randomUUID(), subject: 'user.password_reset_requested', occurredAt: new Date().toISOString(), requestId: undefined, data: { user_id: finn.id, action_url: 'javascript:alert(1)' } });
        await transport.publish({ id: randomUUID(), subject: 'user.password_changed', occurredAt: new Date().toISOString(), requestId: undefined, data: { user_id: finn.id } });
        await mailTo(finn, (m) => m.headers.get('subject') === 'Your password was changed');
        assert.equal(mailsTo(finn).length, 1);
        assert.equal(await emailDeliveriesOf(finn), 1);
      });

      test('an action_url that is not an absolute http(s) URL is refused with 400, and nothing is stored or sent', async () => {
        const pat = await signUp();
        for (const actionUrl of ['javascript:alert(document.cookie)', 'data:text/html,<script>1</script>', '/reset?token=relative', 'not a url', 42, null]) {
          for (const [type, token] of [['account.password_reset', suite.serviceToken], ['payment.succeeded', suite.adminToken]] as const) {
            const response = await send({ user_id: pat.id, type, message: 'Click', data: { action_url: actionUrl } }, token);
            assert.equal(response.status, 400, `${type} ${String(actionUrl)}: ${JSON.stringify(response.body)}`);
            assert.equal(response.body.error.code, 'parameter_invalid');
            assert.equal(response.body.error.param, 'data.action_url');
          }
        }
        // Every event is handled: no notification can still be on its way.
        await suite.platform.settle();
        assert.equal(await count(sql`select count(*)::int as n from notifications where recipient_id = ${String(pat.id)}`), 0);
        assert.equal(await count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(pat.id)} and type <> 'account.verify_email'`), 0);
        assert.equal(mailsTo(pat).length, 0);
      });

      test('an admin may not send a services-only type (403 type_reserved) and a plain user may not send at all (403)', async () => {
        const erin = await signUp();
        const other = await signUp();
        for (const type of ['account.password_reset', 'account.verify_email', 'security.new_login', 'security.password_changed']) {
          const response = await send({ user_id: erin.id, type, message: 'Trust this link', data: { action_url: 'http://localhost:8080/reset?token=forged' } });
          assert.equal(response.status, 403, type);
          assert.equal(response.body.error.code, 'type_reserved', type);
          assert.equal(response.body.error.param, 'type', type);
        }
        for (const body of [{ user_id: erin.id, message: 'hi' }, { user_id: erin.id, type: 'account.password_reset', message: 'x' }, { user_id: erin.id, type: 'payment.succeeded', message: 'x' }]) {
          for (const token of [other.token, erin.token]) {
            const response = await send(body, token);
            assert.equal(response.status, 403, JSON.stringify(body));
            assert.equal(response.body.error.type, 'permission_error');
          }
        }
        // Every event is handled: no notification can still be on its way.
        await suite.platform.settle();
        assert.equal(await count(sql`select count(*)::int as n from notifications where recipient_id = ${String(erin.id)}`), 0);
        assert.equal(await count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(erin.id)} and type <> 'account.verify_email'`), 0);
        assert.equal(mailsTo(erin).length, 0);
      });
    });

  });
}
