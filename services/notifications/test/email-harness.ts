// What the email, account-message, preference, SMTP-failure and erasure suites share: the
// platform's configuration, a webhook receiver (to show what never reaches one) and the platform
// of a suite with an SMTP sink, the users service's token and the helpers its tests read mail with.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { parseMail, postfixRefusalText, startSmtpSink, type Mail, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { eventually, serviceClientsEnv, startTestPlatform, type Backend, type TestEnv, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { ClientCredentialsTokenSource } from '@paymesh/platform/service-client';
import { serviceAudience } from '@paymesh/platform/service-config';

// Given to every platform these suites start.
const serviceSecrets = { users: randomBytes(24).toString('base64url'), payments: randomBytes(24).toString('base64url'), notifications: randomBytes(24).toString('base64url') };
export const env: TestEnv = {
  ...serviceClientsEnv(serviceSecrets),
  // Three attempts in all. The worker polls once a second, so shorter delays would gain nothing and
  // leave the pending state between two attempts too brief to be seen reliably.
  NOTIFICATIONS_RETRY_DELAYS: '1s,1s',
  NOTIFICATIONS_DELIVERY_TIMEOUT_MS: '3000',
  // The webhook receiver below listens on loopback.
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
  EMAIL_OUTBOX_DIR: mkdtempSync(path.join(tmpdir(), 'paymesh-outbox-unused-')),
};

export type User = { id: number; token: string; username: string; password: string };
export const addressOf = (user: User) => `${user.username}@example.com`;

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


/** The platform of a suite (started in its `before`, stopped in its `after`), its SMTP sink and receiver, and the helpers its tests use. */
export function emailSuite(backend: Backend) {
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

  return {
    get sink() {
      return sink;
    },
    get receiver() {
      return receiver;
    },
    get platform() {
      return platform;
    },
    get db() {
      return db;
    },
    get adminToken() {
      return adminToken;
    },
    get serviceToken() {
      return serviceToken;
    },
    signUp, send, pay, isSignUpLink, allMailTo, mailsTo, mailTo, deliveries, delivery, inboxFor, count, notificationsForPayment, emailDeliveriesOf,
  };
}
