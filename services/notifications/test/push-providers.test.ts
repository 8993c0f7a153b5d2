// The push senders speak each provider's protocol. Local servers (fake-push-providers.ts) play FCM
// (and Google's OAuth2 token endpoint), APNs and a Web Push service, and check every request the way
// the real ones do: signatures verified with the public half of keys made here, paths, headers, and
// for Web Push the body decrypted with the subscription's private key. A request that breaks the
// protocol is answered 400 and recorded, and every test ends by asserting that none did.
import assert from 'node:assert/strict';
import { createECDH, generateKeyPairSync, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import { after, afterEach, before, describe, test } from 'node:test';
import type { DeliveryOutcome } from '../src/delivery/delivery-outcome.ts';
import { ApnsSender } from '../src/push/apns-sender.ts';
import { FcmSender, parseFcmServiceAccount } from '../src/push/fcm-sender.ts';
import type { PushMessage } from '../src/push/push-message.ts';
import { WebPushSender, type WebPushSubscription } from '../src/push/web-push-sender.ts';
import { TargetRefusedError } from '../src/webhooks/target-guard.ts';
import { FakeApns, FakeFcm, FakePushService, fcmError, listen } from './fake-push-providers.ts';

const loopback = { address: '127.0.0.1', family: 4 as const };

const hangTimeoutMs = 200;

const message: PushMessage = {
  id: 'dlv_01HZX3K9Q7',
  title: 'Payment received',
  body: '€12.50 from Ada',
  data: { paymentId: 'pay_123', amountMinor: '1250' },
};

/** A clock the tests move by hand; the protocol checks read it too, so tokens are judged at the senders' time. */
let nowMs = Date.now();
const clock = (): Date => new Date(nowMs);
const advanceClock = (ms: number): void => {
  nowMs += ms;
};

/** A loopback port nothing listens on (fetch refuses some low ports outright, so not port 1). */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  const port = await listen(server);
  server.close();
  await once(server, 'close');
  return port;
}

async function timed(run: () => Promise<DeliveryOutcome>): Promise<{ outcome: DeliveryOutcome; elapsedMs: number }> {
  const startedAt = performance.now();
  const outcome = await run();
  return { outcome, elapsedMs: performance.now() - startedAt };
}

// ─── FCM ────────────────────────────────────────────────────────────────────────────────────────

describe('FCM HTTP v1', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const fake = new FakeFcm(publicKey, { now: clock, tokenDelayMs: 30 });
  const deviceToken = `fcm-device-${randomBytes(24).toString('base64url')}`;
  let apiUrl = '';
  const sender = (timeoutMs = 2000): FcmSender => new FcmSender({ serviceAccount: fake.account, apiUrl, timeoutMs, now: clock });

  before(async () => {
    apiUrl = await fake.start(privateKeyPem);
  });
  after(() => fake.stop());
  afterEach(() => {
    assert.deepEqual(fake.violations.splice(0), [], 'the fake FCM saw protocol violations');
    fake.answerWith(() => ({ status: 200, body: { name: 'projects/paymesh-test/messages/0:1' } }));
  });

  test('a message is sent with a token bought by a verified service-account assertion, and is delivered', async () => {
    fake.answerWith(() => ({ status: 200, body: { name: 'projects/paymesh-test/messages/0:1500415314455276' } }));
    const outcome = await sender().send(deviceToken, message);
    assert.deepEqual(outcome, { kind: 'delivered', statusCode: 200, providerId: 'projects/paymesh-test/messages/0:1500415314455276' });
    assert.deepEqual(fake.sends.at(-1)?.body, {
      message: { token: deviceToken, notification: { title: message.title, body: message.body }, data: message.data },
    });
  });

  test('concurrent sends share one access-token request, and later sends reuse the token', async () => {
    const fcm = sender();
    const before = fake.tokenRequests;
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => fcm.send(deviceToken, message)));
    outcomes.push(await fcm.send(deviceToken, message));
    assert.ok(outcomes.every((outcome) => outcome.kind === 'delivered'), JSON.stringify(outcomes));
    assert.equal(fake.tokenRequests - before, 1);
    assert.equal(new Set(fake.sends.slice(-6).map((send) => send.accessToken)).size, 1);
  });

  test('the access token is renewed shortly before Google expires it', async () => {
    const fcm = sender();
    const before = fake.tokenRequests;
    await fcm.send(deviceToken, message);
    advanceClock(50 * 60_000);
    await fcm.send(deviceToken, message);
    assert.equal(fake.tokenRequests - before, 1, 'still fresh at 50 minutes');
    advanceClock(6 * 60_000);
    assert.equal((await fcm.send(deviceToken, message)).kind, 'delivered');
    assert.equal(fake.tokenRequests - before, 2, 'renewed at 56 minutes of a 60-minute token');
  });

  test('UNREGISTERED makes the device an invalid target', async () => {
    fake.answerWith(() => ({ status: 404, body: fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED') }));
    const outcome = await sender().send(deviceToken, message);
    assert.equal(outcome.kind, 'invalid_target');
    assert.equal(outcome.statusCode, 404);
  });

  test('INVALID_ARGUMENT about the registration token makes the device an invalid target, and the error never quotes the token', async () => {
    fake.answerWith((send) => ({ status: 400, body: fcmError(400, 'INVALID_ARGUMENT', `The registration token is not a valid FCM registration token: ${send.body.message.token}`, 'INVALID_ARGUMENT') }));
    const outcome = await sender().send(deviceToken, message);
    assert.equal(outcome.kind, 'invalid_target');
    assert.ok(!outcome.error.includes(deviceToken), 'the full device token leaked into the error');
  });

  test('INVALID_ARGUMENT about the payload fails the delivery but keeps the device', async () => {
    const badRequest = { '@type': 'type.googleapis.com/google.rpc.BadRequest', fieldViolations: [{ field: 'message.data[0].key', description: 'Invalid data key: from' }] };
    fake.answerWith(() => ({ status: 400, body: fcmError(400, 'INVALID_ARGUMENT', "Invalid value at 'message.data[0].key'", undefined, [badRequest]) }));
    const outcome = await sender().send(deviceToken, message);
    assert.equal(outcome.kind, 'failed');
  });

  test('SENDER_ID_MISMATCH makes the device an invalid target', async () => {
    fake.answerWith(() => ({ status: 403, body: fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH') }));
    assert.equal((await sender().send(deviceToken, message)).kind, 'invalid_target');
  });

  test('503 is retried after the Retry-After delay', async () => {
    fake.answerWith(() => ({ status: 503, headers: { 'retry-after': '30' }, body: fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE') }));
    const outcome = await sender().send(deviceToken, message);
    assert.equal(outcome.kind, 'retry');
    assert.equal(outcome.statusCode, 503);
    assert.equal(outcome.retryAfterMs, 30_000);
  });

  test('429 QUOTA_EXCEEDED with an HTTP-date Retry-After is retried after that date', async () => {
    const retryAt = new Date(Math.ceil((nowMs + 90_000) / 1000) * 1000);
    fake.answerWith(() => ({ status: 429, headers: { 'retry-after': retryAt.toUTCString() }, body: fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', 'QUOTA_EXCEEDED') }));
    const outcome = await sender().send(deviceToken, message);
    assert.equal(outcome.kind, 'retry');
    assert.equal(outcome.retryAfterMs, retryAt.getTime() - nowMs);
  });

  test('401 drops the access token: the send is retried and the next one buys a new token', async () => {
    const fcm = sender();
    assert.equal((await fcm.send(deviceToken, message)).kind, 'delivered');
    const firstToken = fake.sends.at(-1)?.accessToken ?? '';
    const before = fake.tokenRequests;
    fake.answerWith((send) => {
      fake.revoke(send.accessToken);
      return { status: 401, body: fcmError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials.') };
    });
    const refused = await fcm.send(deviceToken, message);
    assert.equal(refused.kind, 'retry');
    assert.equal(refused.statusCode, 401);

    fake.answerWith(() => ({ status: 200, body: { name: 'projects/paymesh-test/messages/0:2' } }));
    assert.equal((await fcm.send(deviceToken, message)).kind, 'delivered');
    assert.equal(fake.tokenRequests - before, 1);
    assert.notEqual(fake.sends.at(-1)?.accessToken, firstToken);
  });

  test('a send that gets no answer within timeoutMs is retried', async () => {
    const fcm = sender(hangTimeoutMs);
    await fcm.send(deviceToken, message); // buys the token, so that only the send hangs
    fake.answerWith(() => 'hang');
    const { outcome, elapsedMs } = await timed(() => fcm.send(deviceToken, message));
    assert.equal(outcome.kind, 'retry');
    assert.match(outcome.error, /no answer within 200 ms/);
    assert.ok(elapsedMs < 1500, `waited ${elapsedMs} ms`);
  });

  test('a token endpoint that never answers makes the send retry within timeoutMs', async () => {
    fake.hangTokenRequests = true;
    try {
      const { outcome, elapsedMs } = await timed(() => sender(hangTimeoutMs).send(deviceToken, message));
      assert.equal(outcome.kind, 'retry');
      assert.match(outcome.error, /access token: no answer within 200 ms/);
      assert.ok(elapsedMs < 1500, `waited ${elapsedMs} ms`);
    } finally {
      fake.hangTokenRequests = false;
    }
  });

  test('a refused connection is retried', async () => {
    const fcm = new FcmSender({ serviceAccount: { ...fake.account, token_uri: `http://127.0.0.1:${await closedPort()}/token` }, apiUrl, timeoutMs: 2000, now: clock });
    const outcome = await fcm.send(deviceToken, message);
    assert.equal(outcome.kind, 'retry');
    assert.match(outcome.error, /ECONNREFUSED/);
  });

  test('a service account missing a field is refused with the field named, and bad JSON is never quoted', () => {
    const complete = { type: 'service_account', ...fake.account };
    assert.deepEqual(parseFcmServiceAccount(JSON.stringify(complete)), fake.account);
    const { token_uri: _tokenUri, ...withoutTokenUri } = complete;
    assert.throws(() => parseFcmServiceAccount(JSON.stringify(withoutTokenUri)), /missing "token_uri"/);
    assert.throws(() => parseFcmServiceAccount(JSON.stringify({ ...complete, project_id: '' })), /missing "project_id"/);
    assert.throws(
      () => parseFcmServiceAccount(`{"private_key": "-----BEGIN PRIVATE KEY-----SECRET`),
      (error: Error) => /not valid JSON/.test(error.message) && !error.message.includes('SECRET'),
    );
  });
});

// ─── APNs ───────────────────────────────────────────────────────────────────────────────────────

describe('APNs provider API', () => {
  const keyId = 'ABC123DEFG';
  const teamId = 'DEF123GHIJ';
  const topic = 'com.paymesh.wallet';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const fake = new FakeApns(publicKey, keyId, teamId, topic, { now: clock });
  const deviceToken = randomBytes(32).toString('hex');
  const senders: ApnsSender[] = [];
  let url = '';
  const sender = (timeoutMs = 2000): ApnsSender => {
    const apns = new ApnsSender({ keyPem, keyId, teamId, topic, url, timeoutMs, now: clock });
    senders.push(apns);
    return apns;
  };

  before(async () => {
    url = await fake.start();
  });
  after(async () => {
    await Promise.all(senders.map((apns) => apns.close()));
    await fake.stop();
  });
  afterEach(() => {
    assert.deepEqual(fake.violations.splice(0), [], 'the fake APNs saw protocol violations');
    fake.answerWith(() => ({ status: 200 }));
  });

  test('a notification carries a verified provider token, the topic and the alert, and is delivered', async () => {
    const outcome = await sender().send(deviceToken, message);
    const request = fake.requests.at(-1);
    assert.ok(request !== undefined);
    // APNs answers the apns-id back; the sender reports what APNs said.
    assert.deepEqual(outcome, { kind: 'delivered', statusCode: 200, providerId: request.apnsId.toUpperCase() });
    assert.equal(request.deviceToken, deviceToken);
    assert.equal(request.collapseId, message.id);
    assert.deepEqual(request.body, { ...message.data, aps: { alert: { title: message.title, body: message.body } } });
  });

  test('a data key named "aps" cannot replace the alert', async () => {
    await sender().send(deviceToken, { ...message, data: { aps: 'spoofed' } });
    assert.deepEqual(fake.requests.at(-1)?.body, { aps: { alert: { title: message.title, body: message.body } } });
  });

  test('apns-id is a UUID derived from the delivery id, the same on every retry', async () => {
    const apns = sender();
    await apns.send(deviceToken, message);
    await apns.send(deviceToken, message);
    await apns.send(deviceToken, { ...message, id: 'dlv_another' });
    await apns.send(deviceToken, { ...message, id: '0B3E2C1A-5D4F-4E6A-8B7C-9D0E1F2A3B4C' });
    const ids = fake.requests.slice(-4).map((request) => request.apnsId);
    assert.equal(ids[0], ids[1]);
    assert.notEqual(ids[0], ids[2]);
    assert.equal(ids[3], '0b3e2c1a-5d4f-4e6a-8b7c-9d0e1f2a3b4c', 'a UUID delivery id is used as it is');
  });

  test('one HTTP/2 session and one provider token carry every send', async () => {
    const apns = sender();
    const opened = fake.sessionsOpened;
    for (let i = 0; i < 3; i += 1) assert.equal((await apns.send(deviceToken, message)).kind, 'delivered');
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => apns.send(deviceToken, message)));
    assert.ok(concurrent.every((outcome) => outcome.kind === 'delivered'), JSON.stringify(concurrent));
    assert.equal(fake.sessionsOpened - opened, 1);
    assert.equal(new Set(fake.requests.slice(-8).map((request) => request.jwt)).size, 1);
  });

  test('a session the server closes is replaced by a new one on the next send', async () => {
    const apns = sender();
    assert.equal((await apns.send(deviceToken, message)).kind, 'delivered');
    const opened = fake.sessionsOpened;
    const closing = [...fake.sessions].map((session) => {
      const closed = once(session, 'close');
      session.close();
      return closed;
    });
    await Promise.all(closing);
    await new Promise((resolve) => setTimeout(resolve, 20)); // lets the client read the GOAWAY
    assert.equal((await apns.send(deviceToken, message)).kind, 'delivered');
    assert.equal(fake.sessionsOpened - opened, 1);
  });

  test('the provider token is reused for 50 minutes, then renewed', async () => {
    const apns = sender();
    await apns.send(deviceToken, message);
    advanceClock(30 * 60_000);
    await apns.send(deviceToken, message);
    advanceClock(21 * 60_000);
    await apns.send(deviceToken, message);
    const [first, second, third] = fake.requests.slice(-3);
    assert.equal(second?.jwt, first?.jwt, 'renewing before 20 minutes would be refused as TooManyProviderTokenUpdates');
    assert.notEqual(third?.jwt, first?.jwt, 'a token over an hour old would be refused');
    assert.equal((third?.issuedAtSeconds ?? 0) - (first?.issuedAtSeconds ?? 0), 51 * 60);
  });

  test('410 Unregistered makes the device an invalid target', async () => {
    fake.answerWith(() => ({ status: 410, reason: 'Unregistered' }));
    const outcome = await sender().send(deviceToken, message);
    assert.equal(outcome.kind, 'invalid_target');
    assert.equal(outcome.statusCode, 410);
    assert.match(outcome.error, /Unregistered/);
  });

  test('400 BadDeviceToken makes the device an invalid target', async () => {
    fake.answerWith(() => ({ status: 400, reason: 'BadDeviceToken' }));
    assert.equal((await sender().send(deviceToken, message)).kind, 'invalid_target');
  });

  test('other 400 reasons fail the delivery but keep the device', async () => {
    fake.answerWith(() => ({ status: 400, reason: 'BadTopic' }));
    assert.equal((await sender().send(deviceToken, message)).kind, 'failed');
    fake.answerWith(() => ({ status: 413, reason: 'PayloadTooLarge' }));
    assert.equal((await sender().send(deviceToken, message)).kind, 'failed');
  });

  test('429 and 503 are retried', async () => {
    fake.answerWith(() => ({ status: 429, reason: 'TooManyRequests' }));
    assert.equal((await sender().send(deviceToken, message)).kind, 'retry');
    fake.answerWith(() => ({ status: 503, reason: 'ServiceUnavailable' }));
    assert.equal((await sender().send(deviceToken, message)).kind, 'retry');
  });

  test('403 ExpiredProviderToken is retried and the next request carries a new provider token', async () => {
    const apns = sender();
    fake.answerWith(() => ({ status: 403, reason: 'ExpiredProviderToken' }));
    const refused = await apns.send(deviceToken, message);
    assert.equal(refused.kind, 'retry');
    assert.equal(refused.statusCode, 403);
    const refusedRequest = fake.requests.at(-1);

    advanceClock(60_000);
    fake.answerWith(() => ({ status: 200 }));
    assert.equal((await apns.send(deviceToken, message)).kind, 'delivered');
    const next = fake.requests.at(-1);
    assert.notEqual(next?.jwt, refusedRequest?.jwt);
    assert.equal((next?.issuedAtSeconds ?? 0) - (refusedRequest?.issuedAtSeconds ?? 0), 60);
  });

  test('a request that gets no answer within timeoutMs is retried, and the session stays usable', async () => {
    const apns = sender(hangTimeoutMs);
    fake.answerWith(() => 'hang');
    const { outcome, elapsedMs } = await timed(() => apns.send(deviceToken, message));
    assert.equal(outcome.kind, 'retry');
    assert.match(outcome.error, /no answer within 200 ms/);
    assert.ok(elapsedMs < 1500, `waited ${elapsedMs} ms`);
    fake.answerWith(() => ({ status: 200 }));
    assert.equal((await apns.send(deviceToken, message)).kind, 'delivered');
  });

  test('a refused connection is retried', async () => {
    const apns = new ApnsSender({ keyPem, keyId, teamId, topic, url: `http://127.0.0.1:${await closedPort()}`, timeoutMs: 2000, now: clock });
    senders.push(apns);
    const outcome = await apns.send(deviceToken, message);
    assert.equal(outcome.kind, 'retry');
    assert.match(outcome.error, /ECONNREFUSED/);
  });

  test('a key that is not a P-256 EC key is refused at construction', () => {
    const rsaPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => new ApnsSender({ keyPem: rsaPem, keyId, teamId, topic, timeoutMs: 1000 }), /P-256/);
  });
});

// ─── Web Push ───────────────────────────────────────────────────────────────────────────────────

describe('Web Push', () => {
  const subject = 'mailto:push@paymesh.example';
  const vapid = createECDH('prime256v1');
  vapid.generateKeys();
  const vapidPublicKey = vapid.getPublicKey('base64url');
  // The private scalar can come out shorter than 32 bytes; VAPID wants it zero-padded.
  const vapidPrivateScalar = vapid.getPrivateKey();
  const vapidPrivateKey = Buffer.concat([Buffer.alloc(32 - vapidPrivateScalar.length), vapidPrivateScalar]).toString('base64url');
  const userAgentKeys = createECDH('prime256v1');
  userAgentKeys.generateKeys();
  const userAgent = { privateKey: userAgentKeys.getPrivateKey(), publicKey: userAgentKeys.getPublicKey(), authSecret: randomBytes(16) };
  const fake = new FakePushService(vapidPublicKey, subject, userAgent);
  let subscription: WebPushSubscription;
  const sender = (timeoutMs = 2000): WebPushSender =>
    new WebPushSender({ vapidPublicKey, vapidPrivateKey, subject, timeoutMs, ttlSeconds: 3600, allowInsecureEndpoints: true, checkTarget: async () => loopback });

  before(async () => {
    const origin = await fake.start();
    subscription = {
      endpoint: `${origin}/push/${randomBytes(32).toString('base64url')}`,
      keys: { p256dh: userAgent.publicKey.toString('base64url'), auth: userAgent.authSecret.toString('base64url') },
    };
  });
  after(() => fake.stop());
  afterEach(() => {
    assert.deepEqual(fake.violations.splice(0), [], 'the fake push service saw protocol violations');
    fake.answerWith(() => ({ status: 201 }));
  });

  test('a message is VAPID-signed for the push service origin, encrypted for the subscription, and delivered', async () => {
    fake.answerWith(() => ({ status: 201, headers: { location: '/message/m-1' } }));
    const outcome = await sender().send(subscription, message);
    assert.deepEqual(outcome, { kind: 'delivered', statusCode: 201, providerId: '/message/m-1' });
    const pushed = fake.requests.at(-1);
    assert.equal(pushed?.path, new URL(subscription.endpoint).pathname);
    assert.equal(pushed?.ttl, '3600');
    assert.deepEqual(pushed?.payload, { title: message.title, body: message.body, data: message.data, id: message.id });
  });

  test('the request goes to the address the endpoint check answered, never to a second DNS lookup', async () => {
    const port = new URL(subscription.endpoint).port;
    // push.invalid resolves nowhere: the request can only arrive through the checked address.
    const pinned = { ...subscription, endpoint: subscription.endpoint.replace(`127.0.0.1:${port}`, `push.invalid:${port}`) };
    const checked: string[] = [];
    const webPush = new WebPushSender({ vapidPublicKey, vapidPrivateKey, subject, timeoutMs: 2000, allowInsecureEndpoints: true, checkTarget: async (url) => (checked.push(url), loopback) });
    const before = fake.requests.length;
    const outcome = await webPush.send(pinned, message);
    // The fake refuses the VAPID audience (it names push.invalid, not the fake's origin): what
    // matters is that the request arrived, through the checked address.
    const seen = fake.violations.splice(0);
    assert.notEqual(outcome.kind, 'retry', JSON.stringify(outcome));
    assert.deepEqual(checked, [pinned.endpoint]);
    assert.ok(seen.length > 0 || fake.requests.length === before + 1, 'the fake push service received the request');
  });

  test('an endpoint the guard refuses is an invalid target and nothing is sent; one that does not resolve is retried', async () => {
    const refusing = (error: Error) => new WebPushSender({ vapidPublicKey, vapidPrivateKey, subject, timeoutMs: 2000, allowInsecureEndpoints: true, checkTarget: async () => { throw error; } });
    const before = fake.requests.length;
    assert.equal((await refusing(new TargetRefusedError('private_address', '10.0.0.7 is not a public address')).send(subscription, message)).kind, 'invalid_target');
    assert.equal((await refusing(new TargetRefusedError('unresolvable', 'push.example does not resolve')).send(subscription, message)).kind, 'retry');
    assert.equal((await refusing(Object.assign(new Error('getaddrinfo EAI_AGAIN'), { code: 'EAI_AGAIN' })).send(subscription, message)).kind, 'retry');
    assert.equal(fake.requests.length, before);
  });

  test('retries of one delivery share a Topic, so the push service keeps only one', async () => {
    const webPush = sender();
    await webPush.send(subscription, message);
    await webPush.send(subscription, message);
    await webPush.send(subscription, { ...message, id: 'dlv_another' });
    const [first, retry, other] = fake.requests.slice(-3).map((request) => request.topic);
    assert.ok(first !== undefined);
    assert.equal(retry, first);
    assert.notEqual(other, first);
  });

  test('410 makes the subscription an invalid target, and the error never quotes the endpoint', async () => {
    fake.answerWith(() => ({ status: 410, body: `subscription ${subscription.endpoint} has expired` }));
    const outcome = await sender().send(subscription, message);
    assert.equal(outcome.kind, 'invalid_target');
    assert.equal(outcome.statusCode, 410);
    assert.ok(!outcome.error.includes(subscription.endpoint), 'the endpoint leaked into the error');
  });

  test('404 makes the subscription an invalid target', async () => {
    fake.answerWith(() => ({ status: 404 }));
    assert.equal((await sender().send(subscription, message)).kind, 'invalid_target');
  });

  test('500 is retried', async () => {
    fake.answerWith(() => ({ status: 500 }));
    const outcome = await sender().send(subscription, message);
    assert.equal(outcome.kind, 'retry');
    assert.equal(outcome.statusCode, 500);
  });

  test('429 is retried after the Retry-After delay', async () => {
    fake.answerWith(() => ({ status: 429, headers: { 'retry-after': '12' } }));
    const outcome = await sender().send(subscription, message);
    assert.equal(outcome.kind, 'retry');
    assert.equal(outcome.retryAfterMs, 12_000);
  });

  test('413 and 400 fail the delivery but keep the subscription', async () => {
    fake.answerWith(() => ({ status: 413 }));
    assert.equal((await sender().send(subscription, message)).kind, 'failed');
    fake.answerWith(() => ({ status: 400 }));
    assert.equal((await sender().send(subscription, message)).kind, 'failed');
  });

  test('a request that gets no answer within timeoutMs is retried', async () => {
    fake.answerWith(() => 'hang');
    const { outcome, elapsedMs } = await timed(() => sender(hangTimeoutMs).send(subscription, message));
    assert.equal(outcome.kind, 'retry');
    assert.ok(elapsedMs < 1500, `waited ${elapsedMs} ms`);
  });

  test('an http:// endpoint is refused unless insecure endpoints are allowed', async () => {
    const strict = new WebPushSender({ vapidPublicKey, vapidPrivateKey, subject, timeoutMs: 2000, checkTarget: async () => loopback });
    const before = fake.requests.length;
    const outcome = await strict.send(subscription, message);
    assert.equal(outcome.kind, 'failed');
    assert.equal(fake.requests.length, before, 'nothing was sent');
  });

  test('malformed subscription keys fail the delivery without a request', async () => {
    const before = fake.requests.length;
    const outcome = await sender().send({ ...subscription, keys: { p256dh: 'too-short', auth: subscription.keys.auth } }, message);
    assert.equal(outcome.kind, 'failed');
    assert.equal(fake.requests.length, before);
  });

  test('malformed VAPID keys are refused at construction', () => {
    assert.throws(() => new WebPushSender({ vapidPublicKey: 'nope', vapidPrivateKey, subject, timeoutMs: 1000, checkTarget: async () => loopback }), /public key/);
    assert.throws(() => new WebPushSender({ vapidPublicKey, vapidPrivateKey, subject: 'push@paymesh.example', timeoutMs: 1000, checkTarget: async () => loopback }), /subject/i);
  });
});
