// Push devices and push delivery through the gateway, the whole platform and a real database.
// Local servers (fake-push-providers.ts) play FCM (with Google's OAuth2 token endpoint), APNs
// (cleartext HTTP/2) and a Web Push service, and check every request as the real ones do:
// signatures verified with the public half of keys made here, paths and headers, and Web Push
// bodies decrypted with the subscription's private key. A request that breaks a protocol is
// answered 400 and recorded; each test ends by asserting that none did. Each fake answers per
// device token, from a script a test sets.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import webpush from 'web-push';
import { backends, eventually, startTestPlatform, type TestEnv, type TestPlatform } from '@paymesh/app/testing';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { ClaimedDelivery } from '../src/delivery/channel-sender.ts';
import { PushChannel } from '../src/push/push-channel.ts';
import { WebPushSender } from '../src/push/web-push-sender.ts';
import { TargetRefusedError } from '../src/webhooks/target-guard.ts';
import { FakeApns, FakeFcm, FakePushService, fcmError } from './fake-push-providers.ts';

// ─── The providers, listening before the platform reads its configuration ──────────────────────

const fcmKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const fcm = new FakeFcm(fcmKeys.publicKey);
const fcmUrl = await fcm.start(fcmKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());

const apnsKeyId = 'KEY1234567';
const apnsTeamId = 'TEAM123456';
const apnsTopic = 'com.paymesh.wallet';
const apnsKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const apns = new FakeApns(apnsKeys.publicKey, apnsKeyId, apnsTeamId, apnsTopic);
const apnsUrl = await apns.start();

const vapidSubject = 'mailto:push@paymesh.example';
const vapidKeys = webpush.generateVAPIDKeys();
const pushService = new FakePushService(vapidKeys.publicKey, vapidSubject);
await pushService.start();

const mailDir = mkdtempSync(join(tmpdir(), 'paymesh-push-mail-'));
after(async () => {
  await Promise.all([fcm.stop(), apns.stop(), pushService.stop()]);
  rmSync(mailDir, { recursive: true, force: true });
});

const env: TestEnv = {
  FCM_SERVICE_ACCOUNT_JSON: JSON.stringify({ type: 'service_account', ...fcm.account }),
  FCM_API_URL: fcmUrl,
  APNS_KEY: apnsKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  APNS_KEY_ID: apnsKeyId,
  APNS_TEAM_ID: apnsTeamId,
  APNS_TOPIC: apnsTopic,
  APNS_URL: apnsUrl,
  VAPID_PUBLIC_KEY: vapidKeys.publicKey,
  VAPID_PRIVATE_KEY: vapidKeys.privateKey,
  VAPID_SUBJECT: vapidSubject,
  // The Web Push service is on loopback, and http.
  WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
  NOTIFICATIONS_RETRY_DELAYS: '100ms,100ms',
  // payment.succeeded also goes by email: written here, not in the checkout's var/mail.
  EMAIL_OUTBOX_DIR: mailDir,
};

// ─── The platform ───────────────────────────────────────────────────────────────────────────────

type User = { id: number; token: string };
interface Device { id: string; object: 'device'; platform: string; token_suffix: string; created_at: string }
interface PublicDelivery { id: string; channel: string; status: 'pending' | 'delivered' | 'dead'; device_id: string; attempts: number; last_error: string | null; notification_id: number | null }
interface AttemptLogEntry { attempt: number; attempted_at: string; outcome: string; status_code: number | null; error: string | null }

const androidToken = () => `fcm${randomBytes(6).toString('hex')}:APA91b${randomBytes(48).toString('base64url')}`;
const iosToken = () => randomBytes(32).toString('hex');
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of backends()) {
  describe(`notifications: push devices (${backend})`, () => {
    let platform: TestPlatform;
    let db: Db;
    let adminToken: string;

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      db = platform.embedded!.services.notifications.runtime.database.db;
      adminToken = await platform.api.adminToken();
    });
    after(async () => {
      await platform?.stop();
    });
    afterEach(() => {
      assert.deepEqual(fcm.violations.splice(0), [], 'the fake FCM saw protocol violations');
      assert.deepEqual(apns.violations.splice(0), [], 'the fake APNs saw protocol violations');
      assert.deepEqual(pushService.violations.splice(0), [], 'the fake push service saw protocol violations');
    });

    const register = (user: User, body: unknown) => platform.api.call('POST', '/notifications/devices', { token: user.token, json: body });
    const devicesOf = async (user: User): Promise<Device[]> => {
      const listed = await platform.api.call('GET', '/notifications/devices', { token: user.token });
      assert.equal(listed.status, 200);
      assert.equal(listed.body.object, 'list');
      assert.equal(listed.body.has_more, false);
      return listed.body.data;
    };
    const registered = async (user: User, body: unknown): Promise<Device> => {
      const response = await register(user, body);
      assert.equal(response.status, 201, JSON.stringify(response.body));
      return response.body;
    };
    const addAndroid = async (user: User) => {
      const token = androidToken();
      return { token, device: await registered(user, { platform: 'android', device_token: token }) };
    };
    const addIos = async (user: User) => {
      const token = iosToken();
      return { token, device: await registered(user, { platform: 'ios', device_token: token }) };
    };
    const addWeb = async (user: User) => {
      const subscription = pushService.subscribe();
      return { token: subscription.endpoint, subscription, device: await registered(user, { platform: 'web', subscription }) };
    };
    /** An admin's message to the user: returns the inbox notification's id. */
    const sendMessage = async (user: User, message: string, title?: string, data?: Record<string, unknown>): Promise<number> => {
      const sent = await platform.api.call('POST', '/notifications', { token: adminToken, json: { user_id: user.id, message, ...(title === undefined ? {} : { title }), ...(data === undefined ? {} : { data }) } });
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      return sent.body.id;
    };
    const pushDeliveries = async (user: User, notificationId: number): Promise<PublicDelivery[]> => {
      const listed = await platform.api.call('GET', `/notifications/deliveries?channel=push&notification_id=${notificationId}&limit=100`, { token: user.token });
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      return listed.body.data;
    };
    /** The message's push deliveries once none is pending any more (bounded wait). */
    const settled = (user: User, notificationId: number, timeoutMs = 5_000): Promise<PublicDelivery[]> =>
      eventually(async () => {
        const deliveries = await pushDeliveries(user, notificationId);
        return deliveries.every((d) => d.status !== 'pending') ? deliveries : undefined;
      }, { timeoutMs, intervalMs: 25 });
    const attemptLog = async (user: User, deliveryId: string): Promise<AttemptLogEntry[]> => {
      const response = await platform.api.call('GET', `/notifications/deliveries/${deliveryId}`, { token: user.token });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body.attempt_log;
    };
    const forDevice = (deliveries: PublicDelivery[], device: Device): PublicDelivery => {
      const found = deliveries.find((d) => d.device_id === device.id);
      assert.ok(found !== undefined, `no delivery for ${device.platform} device ${device.id}`);
      return found;
    };
    const pushAttempts = async (outcome: string): Promise<number> => {
      const response = await fetch(`http://127.0.0.1:${platform.embedded!.plan.metrics.notifications}/metrics`, { signal: AbortSignal.timeout(5_000) });
      const text = await response.text();
      const line = text.split('\n').find((l) => l.startsWith('notification_delivery_attempts_total{') && l.includes('channel="push"') && l.includes(`outcome="${outcome}"`));
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    };

    test('one message reaches an android, an ios and a web device, each through its provider\'s protocol', async () => {
      const alice = await platform.api.signUp();
      const android = await addAndroid(alice);
      const ios = await addIos(alice);
      const web = await addWeb(alice);
      for (const [{ device, token }, platformName] of [[android, 'android'], [ios, 'ios'], [web, 'web']] as const) {
        assert.match(device.id, /^dev_/);
        assert.equal(device.object, 'device');
        assert.equal(device.platform, platformName);
        assert.equal(device.token_suffix, token.slice(-8));
        assert.ok(!Number.isNaN(Date.parse(device.created_at)));
        assert.deepEqual(Object.keys(device).sort(), ['created_at', 'id', 'object', 'platform', 'token_suffix'], 'the whole token is never shown');
      }
      const deliveredBefore = await pushAttempts('delivered');

      const notificationId = await sendMessage(alice, 'Your payout of €42.00 is on its way.', 'Payout sent', { payout_id: 'po_123' });
      const deliveries = await settled(alice, notificationId);
      assert.equal(deliveries.length, 3);
      for (const { device } of [android, ios, web]) {
        const delivery = forDevice(deliveries, device);
        assert.equal(delivery.status, 'delivered', JSON.stringify(delivery));
        assert.equal(delivery.attempts, 1);
        assert.equal(delivery.last_error, null);
        assert.deepEqual((await attemptLog(alice, delivery.id)).map((a) => a.outcome), ['delivered']);
      }
      const expectedData = { type: 'message', notification_id: String(notificationId), payout_id: 'po_123' };

      // FCM: an OAuth-authenticated messages:send (the fake checked the token and the assertion that bought it).
      const [fcmSend, ...moreFcm] = fcm.sendsTo(android.token);
      assert.equal(moreFcm.length, 0);
      assert.deepEqual(fcmSend?.notification, { title: 'Payout sent', body: 'Your payout of €42.00 is on its way.' });
      assert.deepEqual(fcmSend?.data, expectedData);

      // APNs: an ES256 provider token, the topic, and the alert; the delivery id collapses retries.
      const [apnsRequest, ...moreApns] = apns.requestsTo(ios.token);
      assert.equal(moreApns.length, 0);
      assert.deepEqual(apnsRequest?.body, { ...expectedData, aps: { alert: { title: 'Payout sent', body: 'Your payout of €42.00 is on its way.' } } });
      assert.equal(apnsRequest?.collapseId, forDevice(deliveries, ios.device).id);

      // Web Push: VAPID-signed for the push service's origin, and only the subscription's keys decrypt it.
      const [pushed, ...morePushed] = pushService.requestsTo(web.token);
      assert.equal(morePushed.length, 0);
      assert.deepEqual(pushed?.payload, { title: 'Payout sent', body: 'Your payout of €42.00 is on its way.', data: expectedData, id: forDevice(deliveries, web.device).id });

      assert.ok((await pushAttempts('delivered')) - deliveredBefore >= 3, 'the metrics count the delivered push attempts');
    });

    describe('a provider\'s invalid-token answer removes the device', () => {
      const cases = [
        { name: 'FCM 404 UNREGISTERED', add: addAndroid, status: 404, script: (token: string) => fcm.scripts.set(token, { status: 404, body: fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED') }), seen: (token: string) => fcm.sendsTo(token).length },
        { name: 'FCM 400 INVALID_ARGUMENT about the registration token', add: addAndroid, status: 400, script: (token: string) => fcm.scripts.set(token, { status: 400, body: fcmError(400, 'INVALID_ARGUMENT', `The registration token is not a valid FCM registration token: ${token}`) }), seen: (token: string) => fcm.sendsTo(token).length },
        { name: 'APNs 410 Unregistered', add: addIos, status: 410, script: (token: string) => apns.scripts.set(token, { status: 410, reason: 'Unregistered' }), seen: (token: string) => apns.requestsTo(token).length },
        { name: 'APNs 400 BadDeviceToken', add: addIos, status: 400, script: (token: string) => apns.scripts.set(token, { status: 400, reason: 'BadDeviceToken' }), seen: (token: string) => apns.requestsTo(token).length },
        { name: 'Web Push 410 Gone', add: addWeb, status: 410, script: (token: string) => pushService.scripts.set(token, { status: 410, body: `push subscription ${token} has expired` }), seen: (token: string) => pushService.requestsTo(token).length },
        { name: 'Web Push 404 Not Found', add: addWeb, status: 404, script: (token: string) => pushService.scripts.set(token, { status: 404 }), seen: (token: string) => pushService.requestsTo(token).length },
      ];
      for (const c of cases) {
        test(`${c.name}: the device is removed, its delivery is dead at once, and the next message skips it`, async () => {
          const user = await platform.api.signUp();
          const gone = await c.add(user);
          const healthy = await addAndroid(user);
          c.script(gone.token);

          const first = await settled(user, await sendMessage(user, 'first'));
          const dead = forDevice(first, gone.device);
          assert.equal(dead.status, 'dead');
          assert.equal(dead.attempts, 1, 'an invalid token is not retried');
          assert.ok(dead.last_error !== null && !dead.last_error.includes(gone.token), `the error quotes the whole token: ${dead.last_error}`);
          const log = await attemptLog(user, dead.id);
          assert.deepEqual(log.map((a) => [a.outcome, a.status_code]), [['invalid_target', c.status]]);
          assert.equal(forDevice(first, healthy.device).status, 'delivered');
          assert.deepEqual((await devicesOf(user)).map((d) => d.id), [healthy.device.id]);
          const deleted = await platform.api.call('DELETE', `/notifications/devices/${gone.device.id}`, { token: user.token });
          assert.equal(deleted.status, 404);

          const second = await settled(user, await sendMessage(user, 'second'));
          assert.deepEqual(second.map((d) => [d.device_id, d.status]), [[healthy.device.id, 'delivered']]);
          assert.equal(c.seen(gone.token), 1, 'the provider was asked once, never again');
        });
      }
    });

    test('a Web Push endpoint whose address cannot be checked for a moment (resolver down) is retried, while one the guard refuses is an invalid target', async () => {
      // The push channel on the service's database, its endpoint check replaced: the public API
      // cannot make the platform's resolver fail.
      const user = await platform.api.signUp();
      const web = await addWeb(user);
      const sender = (checkTarget: () => Promise<never>) => new WebPushSender({ vapidPublicKey: vapidKeys.publicKey, vapidPrivateKey: vapidKeys.privateKey, subject: vapidSubject, timeoutMs: 2_000, allowInsecureEndpoints: true, checkTarget });
      const delivery: ClaimedDelivery = { id: `dlv_${randomBytes(8).toString('hex')}`, recipient_id: String(user.id), type: 'message', channel: 'push', target_id: web.device.id, payload: { title: 't', body: 'b', data: {} }, attempts: 1, manual: false, created_at: new Date(), traceparent: null };
      const resolverDown = new PushChannel(db, { web: sender(async () => {
        throw Object.assign(new Error('getaddrinfo EAI_AGAIN push.example'), { code: 'EAI_AGAIN' });
      }) });
      assert.equal((await resolverDown.send(delivery)).outcome.kind, 'retry');
      const refused = new PushChannel(db, { web: sender(async () => {
        throw new TargetRefusedError('private_address', '10.0.0.7 (resolved from push.example) is not a public address');
      }) });
      assert.equal((await refused.send(delivery)).outcome.kind, 'invalid_target');
      assert.equal(pushService.requestsTo(web.token).length, 0, 'nothing was sent to an endpoint that was not checked');
    });

    describe('a provider that is down is retried', () => {
      const unavailable = {
        android: (token: string, n: number) => fcm.scripts.set(token, ...Array.from({ length: n }, () => ({ status: 503, body: fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE') }))),
        ios: (token: string, n: number) => apns.scripts.set(token, ...Array.from({ length: n }, () => ({ status: 503, reason: 'ServiceUnavailable' }))),
        web: (token: string, n: number) => pushService.scripts.set(token, ...Array.from({ length: n }, () => ({ status: 503 }))),
      };
      /** A user with one device on each platform, each provider answering 503 `failures` times for it. */
      const failingDevices = async (failures: number) => {
        const user = await platform.api.signUp();
        const devices = { android: await addAndroid(user), ios: await addIos(user), web: await addWeb(user) };
        for (const name of ['android', 'ios', 'web'] as const) unavailable[name](devices[name].token, failures);
        return { user, devices };
      };

      test('a 503 from FCM, APNs or a Web Push service is retried, and delivered once the provider recovers', async () => {
        const { user, devices } = await failingDevices(1);
        const retriesBefore = await pushAttempts('retry');
        const deliveries = await settled(user, await sendMessage(user, 'try again'));
        for (const [name, accepted] of [['android', 200], ['ios', 200], ['web', 201]] as const) {
          const delivery = forDevice(deliveries, devices[name].device);
          assert.equal(delivery.status, 'delivered', JSON.stringify(delivery));
          assert.equal(delivery.attempts, 2);
          assert.deepEqual((await attemptLog(user, delivery.id)).map((a) => [a.outcome, a.status_code]), [['retry', 503], ['delivered', accepted]], name);
        }
        assert.equal(fcm.sendsTo(devices.android.token).length, 2);
        assert.ok((await pushAttempts('retry')) - retriesBefore >= 3, 'the metrics count the retries');
        // The retry carries the first attempt's apns-id and Topic: had the first arrived after all,
        // the device or the push service would replace it instead of showing it twice.
        const apnsIds = apns.requestsTo(devices.ios.token).map((r) => r.apnsId);
        assert.equal(apnsIds.length, 2);
        assert.equal(apnsIds[0], apnsIds[1]);
        const topics = pushService.requestsTo(devices.web.token).map((r) => r.topic);
        assert.equal(topics.length, 2);
        assert.ok(topics[0] !== undefined);
        assert.equal(topics[0], topics[1]);
        assert.equal((await devicesOf(user)).length, 3);
      });

      test('a provider that answers 503 to every attempt makes the delivery dead after the last retry, and the device is kept', async () => {
        const { user, devices } = await failingDevices(3);
        const deliveries = await settled(user, await sendMessage(user, 'never'));
        for (const name of ['android', 'ios', 'web'] as const) {
          const delivery = forDevice(deliveries, devices[name].device);
          assert.equal(delivery.status, 'dead', JSON.stringify(delivery));
          assert.equal(delivery.attempts, 3, 'NOTIFICATIONS_RETRY_DELAYS=100ms,100ms: three attempts');
          assert.match(delivery.last_error ?? '', /503/);
          assert.deepEqual((await attemptLog(user, delivery.id)).map((a) => a.outcome), ['retry', 'retry', 'retry'], name);
        }
        assert.equal(apns.requestsTo(devices.ios.token).length, 3);
        assert.equal((await devicesOf(user)).length, 3, 'a provider being down says nothing about the device');
      });
    });

    describe('isolation between users', () => {
      test('a user lists only their own devices, and another user\'s device id is 404 to read, delete or see deliveries of', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const alicePhone = await addAndroid(alice);
        const aliceIpad = await addIos(alice);
        const bobPhone = await addAndroid(bob);
        assert.deepEqual((await devicesOf(alice)).map((d) => d.id).sort(), [alicePhone.device.id, aliceIpad.device.id].sort());
        assert.deepEqual((await devicesOf(bob)).map((d) => d.id), [bobPhone.device.id]);

        const foreign = await platform.api.call('DELETE', `/notifications/devices/${alicePhone.device.id}`, { token: bob.token });
        assert.equal(foreign.status, 404);
        assert.equal(foreign.body.error.code, 'device_not_found');
        const unknown = await platform.api.call('DELETE', `/notifications/devices/dev_${randomBytes(8).toString('hex')}`, { token: bob.token });
        assert.equal(unknown.status, 404);
        assert.deepEqual(unknown.body, foreign.body, 'another user\'s device and no device answer alike');
        assert.equal((await devicesOf(alice)).length, 2, 'alice keeps her device');

        const aliceMessage = await sendMessage(alice, 'for alice');
        const [aliceDelivery] = await settled(alice, aliceMessage);
        const peek = await platform.api.call('GET', `/notifications/deliveries/${aliceDelivery!.id}`, { token: bob.token });
        assert.equal(peek.status, 404);
        assert.deepEqual(await pushDeliveries(bob, aliceMessage), []);

        const unauthenticated = await platform.api.call('GET', '/notifications/devices');
        assert.equal(unauthenticated.status, 401);
      });

      test('a message to one user never reaches another user\'s devices', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const aliceDevices = [await addAndroid(alice), await addIos(alice), await addWeb(alice)];
        const bobPhone = await addAndroid(bob);
        const deliveries = await settled(bob, await sendMessage(bob, 'for bob only'));
        assert.deepEqual(deliveries.map((d) => [d.device_id, d.status]), [[bobPhone.device.id, 'delivered']]);
        assert.equal(fcm.sendsTo(bobPhone.token).length, 1);
        assert.equal(fcm.sendsTo(aliceDevices[0]!.token).length, 0);
        assert.equal(apns.requestsTo(aliceDevices[1]!.token).length, 0);
        assert.equal(pushService.requestsTo(aliceDevices[2]!.token).length, 0);
      });

      test('a token registered by another user moves to them: the first owner loses the device and their messages no longer reach it', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const phone = await addAndroid(alice);
        const ipad = await addIos(alice);
        const taken = await register(bob, { platform: 'android', device_token: phone.token });
        assert.equal(taken.status, 201);
        assert.notEqual(taken.body.id, phone.device.id, 'the moved token is a new device');
        assert.deepEqual((await devicesOf(alice)).map((d) => d.id), [ipad.device.id]);
        assert.deepEqual((await devicesOf(bob)).map((d) => d.id), [taken.body.id]);
        const gone = await platform.api.call('DELETE', `/notifications/devices/${phone.device.id}`, { token: alice.token });
        assert.equal(gone.status, 404);

        const deliveries = await settled(alice, await sendMessage(alice, 'private to alice'));
        assert.deepEqual(deliveries.map((d) => [d.device_id, d.status]), [[ipad.device.id, 'delivered']]);
        assert.equal(fcm.sendsTo(phone.token).length, 0, 'alice\'s message did not reach the phone bob now holds');
      });

      test('a push queued for the first owner does not reach the token once another user has taken it', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const phone = await addAndroid(alice);
        // The first attempt is told to come back in a second (Retry-After): bob takes the phone in between.
        fcm.scripts.set(phone.token, { status: 429, headers: { 'retry-after': '1' }, body: fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded.', 'QUOTA_EXCEEDED') });
        const notificationId = await sendMessage(alice, 'queued for alice');
        await eventually(async () => (fcm.sendsTo(phone.token).length === 1 ? true : undefined), { timeoutMs: 5_000 });
        assert.equal((await register(bob, { platform: 'android', device_token: phone.token })).status, 201);
        const [delivery] = await settled(alice, notificationId);
        assert.equal(delivery?.status, 'canceled', JSON.stringify(delivery));
        assert.equal(fcm.sendsTo(phone.token).length, 1, 'the retry did not go to bob\'s phone');
        const [first, second] = await attemptLog(alice, delivery.id);
        assert.equal(first?.outcome, 'retry');
        const gapMs = Date.parse(second!.attempted_at) - Date.parse(first!.attempted_at);
        assert.ok(gapMs >= 900, `Retry-After: 1 was honoured, yet the retry came ${gapMs} ms after the first attempt`);
      });

      test('two users registering one token at the same moment leave it with exactly one of them', async () => {
        const alice = await platform.api.signUp();
        const bob = await platform.api.signUp();
        const token = androidToken();
        const answers = await Promise.all([alice, bob, alice, bob].map((user) => register(user, { platform: 'android', device_token: token })));
        assert.ok(answers.every((a) => a.status === 200 || a.status === 201), JSON.stringify(answers.map((a) => [a.status, a.body])));
        const holders = [...(await devicesOf(alice)), ...(await devicesOf(bob))];
        assert.equal(holders.length, 1, 'one device holds the token');
        const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from devices where token = ${token}`);
        assert.equal(Number(row!.n), 1);
      });

      test('a device its owner deletes gets no more pushes', async () => {
        const alice = await platform.api.signUp();
        const phone = await addAndroid(alice);
        const ipad = await addIos(alice);
        const deleted = await platform.api.call('DELETE', `/notifications/devices/${phone.device.id}`, { token: alice.token });
        assert.equal(deleted.status, 204);
        assert.equal(deleted.body, undefined);
        const again = await platform.api.call('DELETE', `/notifications/devices/${phone.device.id}`, { token: alice.token });
        assert.equal(again.status, 404);
        const deliveries = await settled(alice, await sendMessage(alice, 'after delete'));
        assert.deepEqual(deliveries.map((d) => d.device_id), [ipad.device.id]);
        assert.equal(fcm.sendsTo(phone.token).length, 0);
      });
    });

    test('push switched off for a type sends no push for it; the inbox still gets the message, and switching it on again resumes pushes', async () => {
      const carol = await platform.api.signUp();
      const phone = await addAndroid(carol);
      const off = await platform.api.call('PATCH', '/notifications/preferences', { token: carol.token, json: { message: { push: false } } });
      assert.equal(off.status, 200, JSON.stringify(off.body));

      const quiet = await sendMessage(carol, 'no buzz');
      assert.deepEqual(await pushDeliveries(carol, quiet), [], 'no push delivery was recorded');
      const inbox = await platform.api.call('GET', '/notifications/', { token: carol.token });
      assert.ok(inbox.body.some((n: { id: number }) => n.id === quiet), 'the inbox has it');

      const on = await platform.api.call('PATCH', '/notifications/preferences', { token: carol.token, json: { message: { push: true } } });
      assert.equal(on.status, 200);
      const loud = await settled(carol, await sendMessage(carol, 'buzz'));
      assert.deepEqual(loud.map((d) => [d.device_id, d.status]), [[phone.device.id, 'delivered']]);
      assert.deepEqual(fcm.sendsTo(phone.token).map((s) => s.notification.body), ['buzz'], 'only the message sent with push on reached the phone');
    });

    describe('registration', () => {
      test('bad registrations are 400 with a stable code, and store nothing', async () => {
        const dave = await platform.api.signUp();
        const { keys } = pushService.subscribe();
        const cases: [string, unknown, string, string][] = [
          ['unknown platform', { platform: 'windows', device_token: androidToken() }, 'parameter_invalid', 'platform'],
          ['no platform', { device_token: androidToken() }, 'parameter_missing', 'platform'],
          ['missing token', { platform: 'android' }, 'parameter_missing', 'device_token'],
          ['token with spaces', { platform: 'ios', device_token: `${iosToken().slice(0, 20)} ${iosToken().slice(0, 20)}` }, 'parameter_invalid', 'device_token'],
          ['token too short', { platform: 'android', device_token: 'abc' }, 'parameter_invalid', 'device_token'],
          ['token that is not a string', { platform: 'android', device_token: 12345678 }, 'parameter_invalid', 'device_token'],
          ['ios with a subscription', { platform: 'ios', device_token: iosToken(), subscription: pushService.subscribe() }, 'parameter_unknown', 'subscription'],
          ['web without a subscription', { platform: 'web' }, 'parameter_missing', 'subscription'],
          ['web without keys', { platform: 'web', subscription: { endpoint: pushService.subscribe().endpoint } }, 'parameter_missing', 'subscription.keys'],
          ['web without the auth key', { platform: 'web', subscription: { endpoint: pushService.subscribe().endpoint, keys: { p256dh: keys.p256dh } } }, 'parameter_missing', 'subscription.keys.auth'],
          ['web key that is not base64url', { platform: 'web', subscription: { endpoint: pushService.subscribe().endpoint, keys: { ...keys, p256dh: `${keys.p256dh.slice(0, 40)}+/` } } }, 'parameter_invalid', 'subscription.keys.p256dh'],
          ['web key that is not a P-256 point', { platform: 'web', subscription: { endpoint: pushService.subscribe().endpoint, keys: { ...keys, p256dh: randomBytes(33).toString('base64url') } } }, 'subscription_invalid', 'subscription'],
          ['web auth secret of the wrong size', { platform: 'web', subscription: { endpoint: pushService.subscribe().endpoint, keys: { ...keys, auth: randomBytes(32).toString('base64url') } } }, 'subscription_invalid', 'subscription'],
          ['web endpoint ftp://', { platform: 'web', subscription: { endpoint: 'ftp://127.0.0.1/push/abc', keys } }, 'subscription_invalid', 'subscription'],
          ['web endpoint that is not a URL', { platform: 'web', subscription: { endpoint: 'not a url at all', keys } }, 'subscription_invalid', 'subscription'],
          ['web endpoint with credentials', { platform: 'web', subscription: { endpoint: 'http://user:pw@127.0.0.1/push/abc', keys } }, 'subscription_invalid', 'subscription'],
          ['web with a device_token instead of a subscription', { platform: 'web', device_token: androidToken() }, 'parameter_unknown', 'device_token'],
          ['extra field beside a token', { platform: 'android', device_token: androidToken(), user_id: 1 }, 'parameter_unknown', 'user_id'],
          ['extra field in a subscription', { platform: 'web', subscription: { ...pushService.subscribe(), owner: 'x' } }, 'parameter_unknown', 'subscription.owner'],
        ];
        for (const [name, body, code, param] of cases) {
          const response = await register(dave, body);
          assert.equal(response.status, 400, `${name}: ${JSON.stringify(response.body)}`);
          assert.equal(response.body.error?.code, code, `${name}: ${JSON.stringify(response.body)}`);
          assert.equal(response.body.error?.param, param, `${name}: ${JSON.stringify(response.body)}`);
        }
        assert.deepEqual(await devicesOf(dave), []);
        const unauthenticated = await platform.api.call('POST', '/notifications/devices', { json: { platform: 'android', device_token: androidToken() } });
        assert.equal(unauthenticated.status, 401);
      });

      test('registering the same token again answers 200 with the same device, never a duplicate', async () => {
        const erin = await platform.api.signUp();
        const phone = await addAndroid(erin);
        const web = await addWeb(erin);
        const phoneAgain = await register(erin, { platform: 'android', device_token: phone.token });
        assert.equal(phoneAgain.status, 200);
        assert.deepEqual(phoneAgain.body, phone.device);
        const webAgain = await register(erin, { platform: 'web', subscription: web.subscription });
        assert.equal(webAgain.status, 200);
        assert.equal(webAgain.body.id, web.device.id);
        const concurrent = await Promise.all(Array.from({ length: 3 }, () => register(erin, { platform: 'ios', device_token: iosToken() })));
        assert.ok(concurrent.every((r) => r.status === 201), 'different tokens are different devices');
        assert.equal((await devicesOf(erin)).length, 5);
        const deliveries = await settled(erin, await sendMessage(erin, 'one each'));
        assert.equal(deliveries.length, 5);
        assert.equal(fcm.sendsTo(phone.token).length, 1, 'one push per device, however often it was registered');
      });

      test('the same token registered at the same moment by its owner is one device', async () => {
        const frank = await platform.api.signUp();
        const token = androidToken();
        const answers = await Promise.all(Array.from({ length: 4 }, () => register(frank, { platform: 'android', device_token: token })));
        assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 201]);
        assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
        assert.equal((await devicesOf(frank)).length, 1);
      });

      test('a user may register at most 20 devices: the 21st is 400 too_many_devices until one is removed', async () => {
        const gina = await platform.api.signUp();
        const devices: Device[] = [];
        for (let i = 0; i < 20; i += 1) devices.push((await addIos(gina)).device);
        const refused = await register(gina, { platform: 'android', device_token: androidToken() });
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error.code, 'too_many_devices');
        const refusedWeb = await register(gina, { platform: 'web', subscription: pushService.subscribe() });
        assert.equal(refusedWeb.body.error?.code, 'too_many_devices');
        assert.equal((await devicesOf(gina)).length, 20);
        // Registering one she already has is no new device, so it is still allowed.
        assert.equal((await register(gina, { platform: 'ios', device_token: (await queryRows<{ token: string }>(db, sql`select token from devices where id = ${devices[0]!.id}`))[0]!.token })).status, 200);
        assert.equal((await platform.api.call('DELETE', `/notifications/devices/${devices[0]!.id}`, { token: gina.token })).status, 204);
        assert.equal((await register(gina, { platform: 'android', device_token: androidToken() })).status, 201);
        assert.equal((await devicesOf(gina)).length, 20);
      });
    });

    describe('payments', () => {
      const pushDeliveriesForPayment = async (paymentId: string) =>
        Number((await queryRows<{ n: number }>(db, sql`select count(*)::int as n from deliveries where channel = 'push' and payload->'data'->>'payment_id' = ${paymentId}`))[0]!.n);

      test('a payment pushes to each of the payer\'s devices once, and its event replayed pushes nothing more', async () => {
        const hana = await platform.api.signUp();
        const phone = await addAndroid(hana);
        const web = await addWeb(hana);
        const transport = platform.embedded!.services.notifications.runtime.transport;
        const events: EventEnvelope[] = [];
        const capture = await transport.broadcast('payment.succeeded', async (event) => void events.push(event), { replayMs: 0 });
        let paymentId: string;
        try {
          const paid = await platform.api.call('POST', '/payments', { token: hana.token, json: { amount: 12.5, user_id: hana.id } });
          assert.equal(paid.status, 200, JSON.stringify(paid.body));
          paymentId = paid.body.payment.id;
          await eventually(async () => (fcm.sendsTo(phone.token).length > 0 && pushService.requestsTo(web.token).length > 0 ? true : undefined), { timeoutMs: 5_000 });
        } finally {
          await capture.stop();
        }
        const [push] = fcm.sendsTo(phone.token);
        assert.deepEqual(push?.notification, { title: 'Payment received', body: 'Payment of $12.50 received.' });
        assert.equal(push.data.payment_id, paymentId);
        assert.equal(push.data.type, 'payment.succeeded');
        assert.deepEqual(pushService.requestsTo(web.token)[0]?.payload.body, 'Payment of $12.50 received.');
        const event = events.find((e) => (e.data as { payment_id?: string }).payment_id === paymentId);
        assert.ok(event !== undefined, 'the payment.succeeded event was seen');

        // The transport delivers it again: once, twice at the same moment, and with a new timestamp.
        await transport.publish(event);
        await Promise.allSettled(Array.from({ length: 3 }, () => transport.publish(event)));
        await transport.publish({ ...event, occurredAt: new Date().toISOString() });
        await wait(300); // longer than the whole retry schedule: a second push would have been sent by now
        assert.equal(await pushDeliveriesForPayment(paymentId), 2, 'one push delivery per device');
        assert.equal(fcm.sendsTo(phone.token).length, 1);
        assert.equal(pushService.requestsTo(web.token).length, 1);
      });
    });
  });
}
