// The email channel, preferences, account messages and erasure through the gateway, against a
// real database and a real SMTP exchange with an in-process sink: who gets which email, what the
// user switched off, single-use links that never reach the inbox or a webhook and are erased once
// sent, SMTP refusals and the retry schedule, replays, and another user's deliveries.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseMail, postfixRefusalText, startSmtpSink, type Mail, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { backends, eventually, serviceClientsEnv, startTestPlatform, type TestEnv, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import { ClientCredentialsTokenSource } from '@paymesh/platform/service-client';
import { serviceAudience } from '@paymesh/platform/service-config';

// Given to every platform this file starts.
const serviceSecrets = { users: randomBytes(24).toString('base64url'), payments: randomBytes(24).toString('base64url'), notifications: randomBytes(24).toString('base64url') };
const env: TestEnv = {
  ...serviceClientsEnv(serviceSecrets),
  // Three attempts in all. The worker polls once a second, so shorter delays would gain nothing and
  // leave the pending state between two attempts too brief to be seen reliably.
  NOTIFICATIONS_RETRY_DELAYS: '1s,1s',
  NOTIFICATIONS_DELIVERY_TIMEOUT_MS: '3000',
  // The webhook receiver below listens on loopback.
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
  EMAIL_OUTBOX_DIR: mkdtempSync(path.join(tmpdir(), 'paymesh-outbox-unused-')),
};

type User = { id: number; token: string; username: string; password: string };
const addressOf = (user: User) => `${user.username}@example.com`;

// --- a webhook receiver, to show what never reaches one ---------------------------------------

interface Receiver { readonly url: string; readonly bodies: string[]; close(): Promise<void> }

async function startReceiver(): Promise<Receiver> {
  const bodies: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    bodies,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of backends()) {
  describe(`notifications: email, preferences, account messages and erasure (${backend})`, () => {
    let sink: SmtpSink;
    let receiver: Receiver;
    let platform: TestPlatform;
    let db: Db;
    let adminToken: string;
    let serviceToken: string;

    before(async () => {
      // Like Postfix, a permanent refusal quotes the address.
      sink = await startSmtpSink({ refusalText: postfixRefusalText });
      receiver = await startReceiver();
      platform = await startTestPlatform(backend, { env: { ...env, SMTP_URL: sink.url } });
      db = platform.embedded!.services.notifications.runtime.database.db;
      adminToken = await platform.api.adminToken();
      // What the users service holds to send account messages (a reset link, say).
      serviceToken = await new ClientCredentialsTokenSource({
        tokenUrl: `${platform.gatewayUrl}/auth/token`,
        clientId: 'users-service',
        clientSecret: serviceSecrets.users,
        scope: 'notifications:write',
        resource: serviceAudience('notifications'),
      }).getToken();
    });
    after(async () => {
      await platform?.stop();
      await receiver?.close();
      await sink?.close();
    });

    // Receipts go only to confirmed addresses: these users have followed their link.
    const signUp = async () => {
      const user = (await platform.api.signUp()) as User;
      await platform.confirmEmail(user.id);
      return user;
    };
    const send = (body: Record<string, unknown>, token = adminToken) => platform.api.call('POST', '/notifications', { token, json: body });
    const pay = async (user: User, amount: string) => {
      const paid = await platform.api.call('POST', '/payments', { token: user.token, json: `{"amount": ${amount}, "user_id": ${user.id}}` });
      assert.equal(paid.status, 200, JSON.stringify(paid.body));
      return paid.body.payment.id as string;
    };
    // Registration sends each user a verification link first; the counts below are about the rest.
    const isSignUpLink = (raw: string) => /^Subject: Confirm your email address\r?$/m.test(raw);
    const allMailTo = (user: User) => sink.received.filter((m) => m.rcptTo.includes(addressOf(user)));
    const mailsTo = (user: User) => allMailTo(user).filter((m) => !isSignUpLink(m.raw));
    /** The one email to `user` whose text passes `match`, once it has arrived. */
    const mailTo = (user: User, match: (mail: Mail) => boolean, timeoutMs = 5_000) =>
      eventually(async () => allMailTo(user).map((m) => parseMail(m.raw)).find(match), { timeoutMs });
    const deliveries = async (user: User, query = '') => {
      const response = await platform.api.call('GET', `/notifications/deliveries${query}`, { token: user.token });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return (response.body.data as { type: string }[]).filter((d) => d.type !== 'account.verify_email') as { id: string; channel: string; type: string; status: string; notification_id: number | null; recipient_id: number; attempts: number; last_error: string | null }[];
    };
    const delivery = (user: User, id: string) => platform.api.call('GET', `/notifications/deliveries/${id}`, { token: user.token });
    const inboxFor = async (user: User, paymentId: string) => {
      const list = await platform.api.call('GET', '/notifications/', { token: user.token });
      return (list.body as { id: number; type: string; data: { payment_id?: string } }[]).find((n) => n.data.payment_id === paymentId);
    };
    const count = async (query: ReturnType<typeof sql>) => Number((await queryRows<{ n: number }>(db, query))[0]!.n);
    const notificationsForPayment = (paymentId: string) => count(sql`select count(*)::int as n from notifications where data->>'payment_id' = ${paymentId}`);
    const emailDeliveriesOf = (user: User) => count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(user.id)} and channel = 'email' and type <> 'account.verify_email'`);

    describe('email', () => {
      test("a payment's notification reaches the payer by email through a real SMTP exchange, and its delivery is delivered", async () => {
        const alice = await signUp();
        const paymentId = await pay(alice, '42.10');
        const mail = await mailTo(alice, (m) => m.text.includes('$42.10'));
        assert.equal(mail.headers.get('subject'), 'Payment received');
        assert.equal(mail.headers.get('to'), addressOf(alice));
        assert.match(mail.text, /Payment of \$42\.10 received\./);
        assert.match(mail.html, /Payment of \$42\.10 received\./);
        assert.match(mail.html, /^<!DOCTYPE html>/);
        assert.equal(mailsTo(alice).length, 1);

        const notification = await eventually(() => inboxFor(alice, paymentId), { timeoutMs: 2_000 });
        const delivered = await eventually(async () => (await deliveries(alice, '?channel=email')).find((d) => d.status === 'delivered'), { timeoutMs: 2_000 });
        assert.equal(delivered.notification_id, notification.id);
        assert.equal(delivered.type, 'payment.succeeded');
        assert.equal(delivered.recipient_id, alice.id);
        assert.equal(delivered.attempts, 1);
        const detail = await delivery(alice, delivered.id);
        assert.equal(detail.status, 200);
        assert.deepEqual(detail.body.attempt_log.map((a: { outcome: string; status_code: number }) => [a.outcome, a.status_code]), [['delivered', 250]]);
        // The Message-ID names the delivery, so a retried send is recognisably the same message.
        assert.match(mail.headers.get('message-id') ?? '', new RegExp(`^<${delivered.id}@`));
      });

      test('a delivered email cannot be redelivered (409 delivery_already_delivered): it would reach the person twice', async () => {
        const ana = await signUp();
        await pay(ana, '3.30');
        await mailTo(ana, (m) => m.text.includes('$3.30'));
        const delivered = await eventually(async () => (await deliveries(ana, '?channel=email')).find((d) => d.status === 'delivered'), { timeoutMs: 2_000 });
        const again = await platform.api.call('POST', `/notifications/deliveries/${delivered.id}/redeliver`, { token: ana.token });
        assert.equal(again.status, 409);
        assert.equal(again.body.error.code, 'delivery_already_delivered');
        await sleep(300);
        assert.equal(mailsTo(ana).length, 1);
        assert.equal((await delivery(ana, delivered.id)).body.attempts, 1);
      });

      test('a redelivered payment event creates no second notification and no second email', async () => {
        const dave = await signUp();
        const paymentId = `pay_${randomBytes(8).toString('hex')}`;
        const event: EventEnvelope = {
          id: randomUUID(),
          subject: 'payment.succeeded',
          occurredAt: new Date().toISOString(),
          requestId: undefined,
          data: { payment_id: paymentId, user_id: dave.id, amount_minor: '777', currency: 'USD', amount_display: '$7.77' },
        };
        const transport = platform.embedded!.services.notifications.runtime.transport;
        await transport.publish(event);
        await transport.publish(event);
        await transport.publish({ ...event, occurredAt: new Date().toISOString() });
        await mailTo(dave, (m) => m.text.includes('$7.77'));
        await sleep(300);
        assert.equal(mailsTo(dave).length, 1);
        assert.equal(await notificationsForPayment(paymentId), 1);
        assert.equal(await emailDeliveriesOf(dave), 1);
        const [row] = await queryRows<{ id: string }>(db, sql`select id from notifications where data->>'payment_id' = ${paymentId}`);
        assert.equal(await count(sql`select count(*)::int as n from deliveries where notification_id = ${row!.id}`), 1);
      });

      test("another user cannot see or redeliver someone's email delivery (404), nor list it", async () => {
        const owner = await signUp();
        const other = await signUp();
        await pay(owner, '3.00');
        await pay(other, '4.00');
        const [owned] = await eventually(async () => {
          const list = await deliveries(owner, '?channel=email&status=delivered');
          return list.length === 1 ? list : undefined;
        });
        const unknown = await delivery(other, `dlv_${randomBytes(12).toString('hex')}`);
        assert.equal(unknown.status, 404);
        const foreign = await delivery(other, owned!.id);
        assert.equal(foreign.status, 404);
        assert.equal(foreign.body.error.code, 'delivery_not_found');
        assert.deepEqual(foreign.body, unknown.body);
        const redeliver = await platform.api.call('POST', `/notifications/deliveries/${owned!.id}/redeliver`, { token: other.token });
        assert.equal(redeliver.status, 404);
        assert.equal(redeliver.body.error.code, 'delivery_not_found');
        await sleep(200);
        assert.equal(mailsTo(owner).length, 1, 'the foreign redeliver sent nothing');
        const untouched = (await delivery(owner, owned!.id)).body;
        assert.equal(untouched.status, 'delivered');
        assert.equal(untouched.attempt_log.length, 1);

        for (const query of ['', '?channel=email', `?recipient_id=${owner.id}`, `?channel=email&recipient_id=${owner.id}`]) {
          const listed = await deliveries(other, query);
          assert.ok(listed.every((d) => d.recipient_id === other.id), query);
          assert.ok(!listed.some((d) => d.id === owned!.id), query);
        }
        const cursor = await platform.api.call('GET', `/notifications/deliveries?starting_after=${owned!.id}`, { token: other.token });
        assert.equal(cursor.status, 400);
        assert.equal(cursor.body.error.param, 'starting_after');
        // the owner does see it, and an admin sees everyone's
        assert.equal((await delivery(owner, owned!.id)).status, 200);
        assert.equal((await platform.api.call('GET', `/notifications/deliveries/${owned!.id}`, { token: adminToken })).status, 200);
      });
    });

    describe('account messages', () => {
      test('a password reset link arrives by email intact, never reaches the inbox or a webhook, and is erased once sent', async () => {
        const carol = await signUp();
        const own = await platform.api.call('POST', '/notifications/webhooks', { token: carol.token, json: { url: `${receiver.url}/carol`, event_types: ['*'] } });
        assert.equal(own.status, 201, JSON.stringify(own.body));
        const everyone = await platform.api.call('POST', '/notifications/webhooks', { token: adminToken, json: { url: `${receiver.url}/admin`, event_types: ['*'], all_users: true } });
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
          }, serviceToken);
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
          const list = await platform.api.call('GET', '/notifications/', { token: carol.token });
          assert.deepEqual(list.body, []);
          assert.equal(await count(sql`select count(*)::int as n from notifications where recipient_id = ${String(carol.id)}`), 0);

          // The delivery finishes, and its content (the link) is gone.
          const [email] = await eventually(async () => {
            const found = await deliveries(carol, '?channel=email&status=delivered');
            return found.length === 1 ? found : undefined;
          });
          assert.equal(email!.type, 'account.password_reset');
          assert.equal(email!.notification_id, null);
          const [stored] = await queryRows<{ payload: unknown }>(db, sql`select payload from deliveries where id = ${email!.id}`);
          assert.equal(stored!.payload, null);
          assert.equal(await count(sql`select count(*)::int as n from deliveries where payload::text like ${`%${token}%`}`), 0);
          const redeliver = await platform.api.call('POST', `/notifications/deliveries/${email!.id}/redeliver`, { token: carol.token });
          assert.equal(redeliver.status, 409);
          assert.equal(redeliver.body.error.code, 'delivery_not_redeliverable');
          assert.equal((await delivery(carol, email!.id)).body.status, 'delivered');

          // The webhooks work (an ordinary message reaches both) yet never saw the link.
          const marker = `control ${randomBytes(4).toString('hex')}`;
          assert.equal((await send({ user_id: carol.id, message: marker, data: { user_id: 1, notification_id: 1, ref: 'r1' } })).status, 201);
          const controls = await eventually(async () => {
            const found = receiver.bodies.filter((b) => b.includes(marker));
            return found.length === 2 ? found : undefined;
          });
          for (const body of controls) {
            // the sender's data never relabels whom the event is about
            const event = JSON.parse(body) as { type: string; data: Record<string, unknown> };
            assert.equal(event.type, 'message');
            assert.equal(event.data.user_id, carol.id);
            assert.notEqual(event.data.notification_id, 1);
            assert.equal(event.data.ref, 'r1');
          }
          assert.ok(!receiver.bodies.some((b) => b.includes(token) || b.includes('account.password_reset')));
          assert.equal(await count(sql`select count(*)::int as n from deliveries where channel = 'webhook' and type = 'account.password_reset'`), 0);
          assert.equal(await emailDeliveriesOf(carol), 1, 'a "message" is never emailed');
          assert.equal(mailsTo(carol).length, 1);
        } finally {
          await platform.api.call('DELETE', `/notifications/webhooks/${everyone.body.id}`, { token: adminToken });
        }
      });

      test("the users service's account events become their emails: verify your email, reset your password, password changed; a new sign-in reaches the inbox too", async () => {
        const erin = await signUp();
        const transport = platform.embedded!.services.notifications.runtime.transport;
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
        const token = await platform.api.login(erin.username, erin.password);
        const inbox = await eventually(async () => {
          const list = (await platform.api.call('GET', '/notifications/', { token })).body as { type: string; message: string }[];
          return list.length === 2 ? list : undefined;
        });
        assert.deepEqual(inbox.map((n) => n.type).sort(), ['security.new_login', 'security.password_changed']);
        assert.ok(inbox.every((n) => !n.message.includes('token=')));
      });

      test('a link event is mailed only to the address it names, and only while that address is the account\'s; one naming none is not mailed', async () => {
        const gail = await signUp();
        const transport = platform.embedded!.services.notifications.runtime.transport;
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
          const rows = await queryRows<{ status: string; last_error: string | null }>(db, sql`select status, last_error from deliveries where recipient_id = ${String(gail.id)} and status = 'canceled'`);
          return rows.length === 1 ? rows : undefined;
        });
        assert.match(canceled[0]!.last_error ?? '', /no longer the account's/);
        assert.equal(sink.received.filter((m) => m.rcptTo.includes(stranger)).length, 0);
        assert.ok(!sink.received.some((m) => m.raw.includes(unbound.slice(-20)) || m.raw.includes(elsewhere.slice(-20))));
        assert.equal(await count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(gail.id)} and type = 'account.password_reset'`), 0);
      });

      test('an account event whose link is not an http(s) URL sends nothing (logged), and does not block the events after it', async () => {
        const finn = await signUp();
        const transport = platform.embedded!.services.notifications.runtime.transport;
        await transport.publish({ id: randomUUID(), subject: 'user.password_reset_requested', occurredAt: new Date().toISOString(), requestId: undefined, data: { user_id: finn.id, action_url: 'javascript:alert(1)' } });
        await transport.publish({ id: randomUUID(), subject: 'user.password_changed', occurredAt: new Date().toISOString(), requestId: undefined, data: { user_id: finn.id } });
        await mailTo(finn, (m) => m.headers.get('subject') === 'Your password was changed');
        assert.equal(mailsTo(finn).length, 1);
        assert.equal(await emailDeliveriesOf(finn), 1);
      });

      test('an action_url that is not an absolute http(s) URL is refused with 400, and nothing is stored or sent', async () => {
        const pat = await signUp();
        for (const actionUrl of ['javascript:alert(document.cookie)', 'data:text/html,<script>1</script>', '/reset?token=relative', 'not a url', 42, null]) {
          for (const [type, token] of [['account.password_reset', serviceToken], ['payment.succeeded', adminToken]] as const) {
            const response = await send({ user_id: pat.id, type, message: 'Click', data: { action_url: actionUrl } }, token);
            assert.equal(response.status, 400, `${type} ${String(actionUrl)}: ${JSON.stringify(response.body)}`);
            assert.equal(response.body.error.code, 'parameter_invalid');
            assert.equal(response.body.error.param, 'data.action_url');
          }
        }
        // Every event is handled: no notification can still be on its way.
        await platform.settle();
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
        await platform.settle();
        assert.equal(await count(sql`select count(*)::int as n from notifications where recipient_id = ${String(erin.id)}`), 0);
        assert.equal(await count(sql`select count(*)::int as n from deliveries where recipient_id = ${String(erin.id)} and type <> 'account.verify_email'`), 0);
        assert.equal(mailsTo(erin).length, 0);
      });
    });

    describe('preferences', () => {
      const preferences = async (user: User) => {
        const response = await platform.api.call('GET', '/notifications/preferences', { token: user.token });
        assert.equal(response.status, 200);
        return response.body as { object: string; types: { type: string; locked: boolean; channels: Record<string, boolean> }[] };
      };
      const patch = (user: User, json: unknown) => platform.api.call('PATCH', '/notifications/preferences', { token: user.token, json });
      const channelsOf = (prefs: Awaited<ReturnType<typeof preferences>>, type: string) => prefs.types.find((t) => t.type === type)!.channels;
      const storedRows = (user: User) => queryRows<{ type: string; channel: string; enabled: boolean }>(db, sql`select type, channel, enabled from preferences where user_id = ${String(user.id)} order by type, channel`);

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
        assert.equal((await platform.api.call('PATCH', '/notifications/preferences', { json: { 'payment.succeeded': { email: false } } })).status, 401);
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
        const endpoint = await platform.api.call('POST', '/notifications/webhooks', { token: kim.token, json: { url: `${receiver.url}/kim`, event_types: ['payment.succeeded'] } });
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

    describe('SMTP failures', () => {
      test('a recipient refused with a 4xx stays pending with attempts counted, then is dead after the retry schedule', async () => {
        const mia = await signUp();
        sink.behaviour.set(addressOf(mia), { code: 450 });
        await pay(mia, '21.00');
        const pending = await eventually(async () => (await deliveries(mia, '?channel=email')).find((d) => d.status === 'pending' && d.attempts >= 1 && d.last_error !== null), { timeoutMs: 5_000 });
        assert.match(pending.last_error!, /450/);
        const dead = await eventually(async () => {
          const found = (await delivery(mia, pending.id)).body;
          return found.status === 'dead' ? found : undefined;
        }, { timeoutMs: 10_000 });
        // 1s,1s: three attempts in all
        assert.equal(dead.attempts, 3);
        assert.match(dead.last_error, /450/);
        assert.deepEqual(dead.attempt_log.map((a: { attempt: number; outcome: string; status_code: number }) => [a.attempt, a.outcome, a.status_code]), [[1, 'retry', 450], [2, 'retry', 450], [3, 'retry', 450]]);
        assert.equal(mailsTo(mia).length, 0);
      });

      test('a recipient refused with a 5xx is dead after one attempt; redelivered once the server accepts, it is delivered', async () => {
        const noah = await signUp();
        sink.behaviour.set(addressOf(noah), { code: 550 });
        await pay(noah, '22.00');
        const [email] = await eventually(async () => {
          const found = await deliveries(noah, '?channel=email&status=dead');
          return found.length === 1 ? found : undefined;
        }, { timeoutMs: 5_000 });
        assert.equal(email!.attempts, 1);
        assert.match(email!.last_error!, /550/);
        const dead = (await delivery(noah, email!.id)).body;
        assert.deepEqual(dead.attempt_log.map((a: { outcome: string; status_code: number }) => [a.outcome, a.status_code]), [['failed', 550]]);

        sink.behaviour.delete(addressOf(noah));
        const redeliver = await platform.api.call('POST', `/notifications/deliveries/${email!.id}/redeliver`, { token: noah.token });
        assert.equal(redeliver.status, 202, JSON.stringify(redeliver.body));
        assert.equal(redeliver.body.id, email!.id);
        const mail = await mailTo(noah, (m) => m.text.includes('$22.00'));
        assert.equal(mail.headers.get('subject'), 'Payment received');
        const delivered = await eventually(async () => {
          const found = (await delivery(noah, email!.id)).body;
          return found.status === 'delivered' ? found : undefined;
        });
        assert.equal(delivered.last_error, null);
        assert.deepEqual(delivered.attempt_log.map((a: { attempt: number; outcome: string; status_code: number }) => [a.attempt, a.outcome, a.status_code]), [[1, 'failed', 550], [2, 'delivered', 250]]);
        for (const a of delivered.attempt_log) assert.ok(a.duration_ms >= 0 && !Number.isNaN(Date.parse(a.attempted_at)));
      });
    });

    describe('erasure', () => {
      test("a deleted user's notifications, preferences, devices and webhook endpoints are erased, and their queued emails die unsent with no content", async () => {
        const olga = await signUp();
        const keeper = await signUp();
        // something to erase in every table, and the same for a user who stays
        for (const user of [olga, keeper]) {
          assert.equal((await send({ user_id: user.id, message: 'to be erased' })).status, 201);
          assert.equal((await platform.api.call('PATCH', '/notifications/preferences', { token: user.token, json: { 'refund.succeeded': { push: false } } })).status, 200);
          const device = await platform.api.call('POST', '/notifications/devices', { token: user.token, json: { platform: 'android', device_token: `fcm-${randomBytes(12).toString('hex')}` } });
          assert.equal(device.status, 201, JSON.stringify(device.body));
          const endpoint = await platform.api.call('POST', '/notifications/webhooks', { token: user.token, json: { url: `${receiver.url}/${user.id}`, event_types: ['payment.succeeded'] } });
          assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
        }
        // one email delivered (its content is erased too), one refused by a server that quoted the
        // address, and one still being tried
        await pay(olga, '31.00');
        await mailTo(olga, (m) => m.text.includes('$31.00'));
        sink.behaviour.set(addressOf(olga), { code: 550 });
        await pay(olga, '33.00');
        const refused = await eventually(async () => (await deliveries(olga, '?channel=email&status=dead'))[0], { timeoutMs: 5_000 });
        assert.ok(refused.last_error!.includes(addressOf(olga)));
        // The server holds its answer: the user is deleted while the attempt is under way.
        sink.behaviour.set(addressOf(olga), { code: 451, delayMs: 1_500 });
        await pay(olga, '32.00');
        const pending = await eventually(async () => (await deliveries(olga, '?channel=email&status=pending')).find((d) => d.attempts >= 1), { timeoutMs: 5_000 });

        const deleted = await platform.api.call('DELETE', `/users/${olga.id}`, { token: olga.token });
        assert.equal(deleted.status, 204);
        const id = String(olga.id);
        const remaining = async (userId: string) => ({
          notifications: await count(sql`select count(*)::int as n from notifications where recipient_id = ${userId}`),
          inboxHeads: await count(sql`select count(*)::int as n from inbox_heads where recipient_id = ${userId}`),
          preferences: await count(sql`select count(*)::int as n from preferences where user_id = ${userId}`),
          devices: await count(sql`select count(*)::int as n from devices where user_id = ${userId}`),
          webhookEndpoints: await count(sql`select count(*)::int as n from webhook_endpoints where owner_id = ${userId}`),
          deliveriesWithContent: await count(sql`select count(*)::int as n from deliveries where recipient_id = ${userId} and payload is not null`),
        });
        await eventually(async () => ((await remaining(id)).notifications === 0 ? true : undefined), { timeoutMs: 5_000 });
        assert.deepEqual(await remaining(id), { notifications: 0, inboxHeads: 0, preferences: 0, devices: 0, webhookEndpoints: 0, deliveriesWithContent: 0 });
        const queued = async () => (await queryRows<{ status: string; payload: unknown; last_error: string; attempts: number }>(db, sql`
          select status, payload, last_error, attempts from deliveries where id = ${pending.id}`))[0]!;
        assert.deepEqual(await queued(), { status: 'canceled', payload: null, last_error: 'recipient deleted', attempts: 1 });
        assert.equal(await count(sql`select count(*)::int as n from deliveries where recipient_id = ${id} and status = 'pending'`), 0);
        // the attempt under way is logged when it ends, and does not bring the delivery back
        await eventually(async () => ((await count(sql`select count(*)::int as n from delivery_attempts where delivery_id = ${pending.id}`)) === 1 ? true : undefined), { timeoutMs: 5_000 });
        await sleep(1_200);
        assert.deepEqual(await queued(), { status: 'canceled', payload: null, last_error: 'recipient deleted', attempts: 1 });
        sink.behaviour.delete(addressOf(olga));
        assert.ok(!mailsTo(olga).some((m) => m.raw.includes('$32.00')));
        // the delivery log stays (outcomes and status codes), without a word that names them
        const [log] = await queryRows<{ outcome: string; status_code: number; error: string | null }>(db, sql`select outcome, status_code, error from delivery_attempts where delivery_id = ${refused.id}`);
        assert.deepEqual({ ...log }, { outcome: 'failed', status_code: 550, error: null });
        const address = `%${addressOf(olga)}%`;
        assert.equal(await count(sql`select count(*)::int as n from deliveries where last_error like ${address} or payload::text like ${address}`), 0);
        assert.equal(await count(sql`select count(*)::int as n from delivery_attempts where error like ${address} or response like ${address}`), 0);

        // erasure sticks: an admin's message or a late event for them records nothing
        const late = await send({ user_id: olga.id, message: 'are you still there?' });
        assert.equal(late.status, 404);
        assert.equal(late.body.error.code, 'recipient_not_found');
        assert.deepEqual(await remaining(id), { notifications: 0, inboxHeads: 0, preferences: 0, devices: 0, webhookEndpoints: 0, deliveriesWithContent: 0 });

        // the user who stays keeps everything
        const kept = await remaining(String(keeper.id));
        assert.equal(kept.notifications, 1);
        assert.equal(kept.preferences, 1);
        assert.equal(kept.devices, 1);
        assert.equal(kept.webhookEndpoints, 1);
      });
    });
  });

  describe(`notifications: email without SMTP_URL is written as .eml files (${backend})`, () => {
    let platform: TestPlatform;
    let outboxDir: string;

    before(async () => {
      outboxDir = mkdtempSync(path.join(tmpdir(), 'paymesh-outbox-'));
      platform = await startTestPlatform(backend, { env: { ...env, SMTP_URL: undefined, EMAIL_OUTBOX_DIR: outboxDir } });
    });
    after(async () => {
      await platform?.stop();
    });

    test('a payment without SMTP_URL writes <delivery id>.eml to EMAIL_OUTBOX_DIR with the recipient and subject', async () => {
      const user = (await platform.api.signUp()) as User;
      await platform.confirmEmail(user.id);
      const paid = await platform.api.call('POST', '/payments', { token: user.token, json: { amount: '9.99', user_id: user.id } });
      assert.equal(paid.status, 200);
      const email = await eventually(async () => {
        const list = await platform.api.call('GET', '/notifications/deliveries?channel=email&status=delivered', { token: user.token });
        return (list.body.data as { id: string; type: string }[]).find((d) => d.type === 'payment.succeeded');
      });
      assert.deepEqual((await readdir(outboxDir)).filter((f) => f.startsWith(email.id)), [`${email.id}.eml`]);
      const raw = await readFile(path.join(outboxDir, `${email.id}.eml`), 'utf8');
      assert.ok(raw.includes('\r\n'), 'CRLF line ends, as SMTP would carry');
      const mail = parseMail(raw);
      assert.equal(mail.headers.get('to'), addressOf(user));
      assert.equal(mail.headers.get('subject'), 'Payment received');
      assert.match(mail.text, /Payment of \$9\.99 received\./);
      assert.match(mail.headers.get('message-id') ?? '', new RegExp(`^<${email.id}@`));
    });

    test("a deleted user's .eml files are removed with the rest of their data", async () => {
      const user = (await platform.api.signUp()) as User;
      await platform.confirmEmail(user.id);
      assert.equal((await platform.api.call('POST', '/payments', { token: user.token, json: { amount: '4.44', user_id: user.id } })).status, 200);
      const email = await eventually(async () => {
        const list = await platform.api.call('GET', '/notifications/deliveries?channel=email&status=delivered', { token: user.token });
        return (list.body.data as { id: string; type: string }[]).find((d) => d.type === 'payment.succeeded');
      });
      assert.ok((await readdir(outboxDir)).includes(`${email.id}.eml`));
      assert.equal((await platform.api.call('DELETE', `/users/${user.id}`, { token: user.token })).status, 204);
      await eventually(async () => ((await readdir(outboxDir)).includes(`${email.id}.eml`) ? undefined : true), { timeoutMs: 5_000 });
    });
  });
}
