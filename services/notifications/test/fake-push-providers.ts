// Local servers that play the push providers for the tests: FCM HTTP v1 (and Google's OAuth2 token
// endpoint), APNs (cleartext HTTP/2) and a Web Push service. Each checks every request the way the
// real one does: signatures verified with the public half of keys the test made, paths, headers,
// and for Web Push the body decrypted with the subscription's private key. A request that breaks
// the protocol is answered 400 and recorded in `violations`.
//
// What a fake answers: first a per-token script (`scripts`, taken in order; a Web Push one is keyed
// by the endpoint), then the answer set with `answerWith` (by default, it accepts). `'hang'` never
// answers, so that only the sender's timeout ends the wait.
import { createDecipheriv, createECDH, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, importJWK, jwtVerify } from 'jose';
import type { FcmServiceAccount } from '../src/push/fcm-sender.ts';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function listen(server: http.Server | http2.Http2Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** Closes an HTTP/1 server, its open connections (and any request left hanging) with it. */
async function closeNow(server: http.Server): Promise<void> {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
}

async function readBody(request: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/** Thrown by a fake server's checks: answered 400 and recorded. */
class ProtocolViolation extends Error {}

function check(condition: unknown, violation: string): asserts condition {
  if (!condition) throw new ProtocolViolation(violation);
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Answers per device token (or Web Push endpoint), taken in order; once a token's script is used up, the provider answers as `answerWith` says. */
export class Scripts<A> {
  readonly #scripts = new Map<string, A[]>();

  set(key: string, ...answers: A[]): void {
    this.#scripts.set(key, answers);
  }

  next(key: string): A | undefined {
    return this.#scripts.get(key)?.shift();
  }
}

interface FakeClock {
  /** The clock provider tokens are judged by (a test may move it by hand); the real one by default. */
  readonly now?: () => Date;
}

// ─── FCM ────────────────────────────────────────────────────────────────────────────────────────

export type FcmAnswer = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: unknown } | 'hang';

export interface FcmSend {
  /** The bearer token the send carried. */
  readonly accessToken: string;
  readonly token: string;
  readonly notification: { title: string; body: string };
  readonly data: Record<string, string>;
  /** The request body as sent. */
  readonly body: { message: { token: string; notification: { title: string; body: string }; data: Record<string, string> } };
}

const fcmScope = 'https://www.googleapis.com/auth/firebase.messaging';

export const fcmError = (code: number, status: string, message: string, errorCode?: string, extraDetails: unknown[] = []): unknown => ({
  error: {
    code,
    message,
    status,
    details: [...(errorCode === undefined ? [] : [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }]), ...extraDetails],
  },
});

export interface FakeFcmOptions extends FakeClock {
  /** How long the token endpoint takes to answer (so that concurrent sends overlap with the request in flight); 0 by default. */
  readonly tokenDelayMs?: number;
}

export class FakeFcm {
  readonly violations: string[] = [];
  readonly sends: FcmSend[] = [];
  readonly scripts = new Scripts<FcmAnswer>();
  tokenRequests = 0;
  /** The token endpoint takes requests but never answers them. */
  hangTokenRequests = false;
  readonly #validTokens = new Set<string>();
  readonly #publicKey: KeyObject;
  readonly #server: http.Server;
  readonly #now: () => Date;
  readonly #tokenDelayMs: number;
  #answer: (send: FcmSend) => FcmAnswer = () => ({ status: 200, body: { name: `projects/paymesh-test/messages/0:${this.sends.length}` } });
  account!: FcmServiceAccount;

  constructor(publicKey: KeyObject, options: FakeFcmOptions = {}) {
    this.#publicKey = publicKey;
    this.#now = options.now ?? (() => new Date());
    this.#tokenDelayMs = options.tokenDelayMs ?? 0;
    this.#server = http.createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        const violation = messageOf(error);
        this.violations.push(violation);
        response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 400, message: `fake FCM: ${violation}`, status: 'PROTOCOL_VIOLATION' } }));
      });
    });
  }

  /** Listens, and makes `account` the service account whose assertions the token endpoint takes. */
  async start(privateKeyPem: string): Promise<string> {
    const url = `http://127.0.0.1:${await listen(this.#server)}`;
    this.account = { project_id: 'paymesh-test', client_email: 'push@paymesh-test.iam.gserviceaccount.com', private_key: privateKeyPem, token_uri: `${url}/token` };
    return url;
  }

  sendsTo(token: string): FcmSend[] {
    return this.sends.filter((send) => send.token === token);
  }

  answerWith(answer: (send: FcmSend) => FcmAnswer): void {
    this.#answer = answer;
  }

  revoke(accessToken: string): void {
    this.#validTokens.delete(accessToken);
  }

  stop(): Promise<void> {
    return closeNow(this.#server);
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = await readBody(request);
    if (request.url === '/token') return this.#token(request, body, response);
    check(request.method === 'POST', `send must be POST, not ${request.method}`);
    check(request.url === `/v1/projects/${this.account.project_id}/messages:send`, `unexpected path ${request.url}`);
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    check(bearer !== undefined && this.#validTokens.has(bearer), 'Authorization is not a bearer token the token endpoint issued');
    check(request.headers['content-type']?.startsWith('application/json'), 'send body must be JSON');
    const sent = JSON.parse(body.toString('utf8')) as { message?: { token?: unknown; notification?: { title?: unknown; body?: unknown }; data?: Record<string, unknown> } };
    const message = sent.message;
    check(typeof message?.token === 'string' && message.token !== '', 'message.token missing');
    check(typeof message.notification?.title === 'string' && typeof message.notification.body === 'string', 'message.notification needs title and body');
    check(Object.values(message.data ?? {}).every((value) => typeof value === 'string'), 'message.data values must be strings');
    const send: FcmSend = {
      accessToken: bearer,
      token: message.token,
      notification: message.notification as FcmSend['notification'],
      data: (message.data ?? {}) as Record<string, string>,
      body: sent as FcmSend['body'],
    };
    this.sends.push(send);
    const answer = this.scripts.next(send.token) ?? this.#answer(send);
    if (answer === 'hang') return;
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body ?? {}));
  }

  async #token(request: http.IncomingMessage, body: Buffer, response: http.ServerResponse): Promise<void> {
    this.tokenRequests += 1;
    check(request.method === 'POST', 'token request must be POST');
    check(request.headers['content-type']?.startsWith('application/x-www-form-urlencoded'), 'token request must be form-encoded');
    const form = new URLSearchParams(body.toString('utf8'));
    check(form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer', `grant_type is ${form.get('grant_type')}`);
    const assertion = form.get('assertion');
    check(assertion !== null, 'assertion missing');
    const { payload, protectedHeader } = await jwtVerify(assertion, this.#publicKey, {
      algorithms: ['RS256'],
      issuer: this.account.client_email,
      audience: this.account.token_uri,
      currentDate: this.#now(),
    }).catch((error: unknown) => {
      throw new ProtocolViolation(`assertion refused: ${messageOf(error)}`);
    });
    check(protectedHeader.alg === 'RS256', 'assertion must be RS256');
    check(payload.scope === fcmScope, `scope is ${String(payload.scope)}`);
    check(typeof payload.iat === 'number' && typeof payload.exp === 'number', 'assertion needs iat and exp');
    check(payload.exp > payload.iat && payload.exp - payload.iat <= 3600, 'assertion must live at most an hour');
    if (this.hangTokenRequests) return;
    if (this.#tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#tokenDelayMs));
    const accessToken = `ya29.fake-${this.tokenRequests}-${randomBytes(4).toString('hex')}`;
    this.#validTokens.add(accessToken);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }));
  }
}

// ─── APNs ───────────────────────────────────────────────────────────────────────────────────────

export type ApnsAnswer = { readonly status: number; readonly reason?: string } | 'hang';

export interface ApnsRequest {
  readonly deviceToken: string;
  /** The provider token. */
  readonly jwt: string;
  readonly issuedAtSeconds: number;
  readonly apnsId: string;
  readonly collapseId: string | undefined;
  readonly body: Record<string, unknown>;
}

export class FakeApns {
  readonly violations: string[] = [];
  readonly requests: ApnsRequest[] = [];
  readonly scripts = new Scripts<ApnsAnswer>();
  readonly sessions = new Set<http2.ServerHttp2Session>();
  sessionsOpened = 0;
  readonly #server = http2.createServer();
  readonly #publicKey: KeyObject;
  readonly #keyId: string;
  readonly #teamId: string;
  readonly #topic: string;
  readonly #now: () => Date;
  #answer: (request: ApnsRequest) => ApnsAnswer = () => ({ status: 200 });

  constructor(publicKey: KeyObject, keyId: string, teamId: string, topic: string, options: FakeClock = {}) {
    this.#publicKey = publicKey;
    this.#keyId = keyId;
    this.#teamId = teamId;
    this.#topic = topic;
    this.#now = options.now ?? (() => new Date());
    this.#server.on('session', (session) => {
      this.sessionsOpened += 1;
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
    });
    this.#server.on('stream', (stream, headers) => {
      // A cancelled stream (the sender's timeout) errors here; that is the expected end of a hang.
      stream.on('error', () => undefined);
      this.#handle(stream, headers).catch((error: unknown) => {
        const violation = messageOf(error);
        this.violations.push(violation);
        if (!stream.headersSent) stream.respond({ ':status': 400 });
        if (!stream.closed) stream.end(JSON.stringify({ reason: `ProtocolViolation: ${violation}` }));
      });
    });
  }

  async start(): Promise<string> {
    return `http://127.0.0.1:${await listen(this.#server)}`;
  }

  answerWith(answer: (request: ApnsRequest) => ApnsAnswer): void {
    this.#answer = answer;
  }

  requestsTo(token: string): ApnsRequest[] {
    return this.requests.filter((request) => request.deviceToken === token);
  }

  async stop(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    this.#server.close();
    await once(this.#server, 'close');
  }

  async #handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    const body = await readBody(stream);
    check(headers[':method'] === 'POST', `method is ${headers[':method']}`);
    const deviceToken = /^\/3\/device\/([0-9a-f]+)$/.exec(headers[':path'] ?? '')?.[1];
    check(deviceToken !== undefined, `path is ${headers[':path']}`);
    const jwt = /^bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    check(jwt !== undefined, 'authorization is not "bearer <provider token>"');
    const protectedHeader = decodeProtectedHeader(jwt);
    check(protectedHeader.alg === 'ES256' && protectedHeader.kid === this.#keyId, `provider token header is ${JSON.stringify(protectedHeader)}`);
    const { payload } = await jwtVerify(jwt, this.#publicKey, { algorithms: ['ES256'], issuer: this.#teamId, currentDate: this.#now(), maxTokenAge: '1h' }).catch((error: unknown) => {
      throw new ProtocolViolation(`provider token refused: ${messageOf(error)}`);
    });
    check(typeof payload.iat === 'number', 'provider token needs iat');
    check(headers['apns-topic'] === this.#topic, `apns-topic is ${headers['apns-topic']}`);
    check(headers['apns-push-type'] === 'alert', `apns-push-type is ${headers['apns-push-type']}`);
    check(headers['apns-priority'] === '10', `apns-priority is ${headers['apns-priority']}`);
    const apnsId = headers['apns-id'];
    check(typeof apnsId === 'string' && uuidPattern.test(apnsId), `apns-id ${apnsId} is not a UUID`);
    const collapseId = headers['apns-collapse-id'];
    check(collapseId === undefined || (typeof collapseId === 'string' && Buffer.byteLength(collapseId) <= 64), 'apns-collapse-id is over 64 bytes');
    const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const alert = (json.aps as { alert?: { title?: unknown; body?: unknown } } | undefined)?.alert;
    check(typeof alert?.title === 'string' && typeof alert.body === 'string', 'aps.alert needs title and body');
    const request: ApnsRequest = { deviceToken, jwt, issuedAtSeconds: payload.iat, apnsId, collapseId: typeof collapseId === 'string' ? collapseId : undefined, body: json };
    this.requests.push(request);
    const answer = this.scripts.next(deviceToken) ?? this.#answer(request);
    if (answer === 'hang') return;
    // APNs answers the apns-id back (upper-cased here, so a test can tell it from the one sent).
    stream.respond({ ':status': answer.status, 'apns-id': apnsId.toUpperCase() });
    stream.end(answer.reason === undefined ? '' : JSON.stringify({ reason: answer.reason, ...(answer.status === 410 ? { timestamp: this.#now().getTime() } : {}) }));
  }
}

// ─── Web Push ───────────────────────────────────────────────────────────────────────────────────

export interface UserAgentKeys { readonly privateKey: Buffer; readonly publicKey: Buffer; readonly authSecret: Buffer }

/** RFC 8291 (with RFC 8188's aes128gcm framing) from the browser's side: what the user agent does with a push. */
function decryptAes128gcm(body: Buffer, userAgent: UserAgentKeys): Buffer {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const keyIdLength = body.readUInt8(20);
  const serverPublicKey = body.subarray(21, 21 + keyIdLength);
  const record = body.subarray(21 + keyIdLength);
  check(keyIdLength === 65, 'keyid must be the application server\'s 65-byte public key');
  check(record.length <= recordSize, 'a push message is a single record');

  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(userAgent.privateKey);
  const sharedSecret = ecdh.computeSecret(serverPublicKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), userAgent.publicKey, serverPublicKey]);
  const inputKey = Buffer.from(hkdfSync('sha256', sharedSecret, userAgent.authSecret, keyInfo, 32));
  const contentKey = Buffer.from(hkdfSync('sha256', inputKey, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', inputKey, salt, Buffer.from('Content-Encoding: nonce\0'), 12));

  const decipher = createDecipheriv('aes-128-gcm', contentKey, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  // The plaintext ends with the 0x02 delimiter of the last record, then zero padding.
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  check(padded[end] === 2, 'the last record must end with the 0x02 delimiter');
  return padded.subarray(0, end);
}

export type WebPushAnswer = { readonly status: number; readonly headers?: Record<string, string>; readonly body?: unknown } | 'hang';

export interface PushRequest {
  /** The endpoint's path, and the whole endpoint. */
  readonly path: string;
  readonly endpoint: string;
  readonly ttl: string;
  readonly topic: string | undefined;
  /** The decrypted payload. */
  readonly payload: { title?: unknown; body?: unknown; data?: unknown; id?: unknown };
}

export interface Subscription { readonly endpoint: string; readonly keys: { readonly p256dh: string; readonly auth: string } }

export class FakePushService {
  readonly violations: string[] = [];
  readonly requests: PushRequest[] = [];
  readonly scripts = new Scripts<WebPushAnswer>();
  /** Each subscription's browser keys, by its endpoint's path. */
  readonly #userAgents = new Map<string, UserAgentKeys>();
  readonly #defaultUserAgent: UserAgentKeys | undefined;
  readonly #server: http.Server;
  readonly #vapidPublicKey: string;
  readonly #subject: string;
  #origin = '';
  #answer: (request: PushRequest) => WebPushAnswer = () => ({ status: 201, headers: { location: `/message/${this.requests.length}` } });

  /** With `userAgent`, every path takes pushes encrypted for those keys; without, only the paths `subscribe()` made. */
  constructor(vapidPublicKey: string, subject: string, userAgent?: UserAgentKeys) {
    this.#vapidPublicKey = vapidPublicKey;
    this.#subject = subject;
    this.#defaultUserAgent = userAgent;
    this.#server = http.createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        const violation = messageOf(error);
        this.violations.push(violation);
        response.writeHead(400).end(`fake push service: ${violation}`);
      });
    });
  }

  /** Listens; answers the origin. */
  async start(): Promise<string> {
    this.#origin = `http://127.0.0.1:${await listen(this.#server)}`;
    return this.#origin;
  }

  /** What a browser's PushManager.subscribe() gives the page: an endpoint here and the keys to encrypt for it. */
  subscribe(): Subscription {
    const keys = createECDH('prime256v1');
    keys.generateKeys();
    const userAgent = { privateKey: keys.getPrivateKey(), publicKey: keys.getPublicKey(), authSecret: randomBytes(16) };
    const path = `/push/v2/${randomBytes(32).toString('base64url')}`;
    this.#userAgents.set(path, userAgent);
    return { endpoint: `${this.#origin}${path}`, keys: { p256dh: userAgent.publicKey.toString('base64url'), auth: userAgent.authSecret.toString('base64url') } };
  }

  answerWith(answer: (request: PushRequest) => WebPushAnswer): void {
    this.#answer = answer;
  }

  requestsTo(endpoint: string): PushRequest[] {
    return this.requests.filter((request) => request.endpoint === endpoint);
  }

  stop(): Promise<void> {
    return closeNow(this.#server);
  }

  async #handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = await readBody(request);
    check(request.method === 'POST', `method is ${request.method}`);
    const path = request.url ?? '';
    const userAgent = this.#userAgents.get(path) ?? this.#defaultUserAgent;
    check(userAgent !== undefined, `no subscription at ${request.url}`);
    const vapid = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(request.headers.authorization ?? '');
    check(vapid !== null, `Authorization is not "vapid t=…, k=…": ${request.headers.authorization}`);
    const [, jwt = '', k = ''] = vapid;
    check(k === this.#vapidPublicKey, 'k is not the application server\'s VAPID public key');
    const point = Buffer.from(k, 'base64url');
    check(point.length === 65 && point[0] === 4, 'k must be an uncompressed P-256 point');
    const key = await importJWK({ kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, 'ES256');
    // The push service judges the token by its own (real) clock: web-push stamps exp with Date.now().
    const { payload } = await jwtVerify(jwt, key, { algorithms: ['ES256'], audience: this.#origin, subject: this.#subject }).catch((error: unknown) => {
      throw new ProtocolViolation(`VAPID token refused: ${messageOf(error)}`);
    });
    check(typeof payload.exp === 'number' && payload.exp * 1000 > Date.now() && payload.exp * 1000 <= Date.now() + 24 * 3600_000, 'VAPID exp must be in the next 24 hours');
    check(request.headers['content-encoding'] === 'aes128gcm', `Content-Encoding is ${request.headers['content-encoding']}`);
    const ttl = request.headers.ttl;
    check(typeof ttl === 'string' && /^\d+$/.test(ttl), `TTL is ${ttl}`);
    const topic = request.headers.topic;
    check(topic === undefined || (typeof topic === 'string' && /^[A-Za-z0-9_-]{1,32}$/.test(topic)), `Topic ${topic} is not ≤ 32 base64url characters`);
    const decrypted: unknown = JSON.parse(decryptAes128gcm(body, userAgent).toString('utf8'));
    check(typeof decrypted === 'object' && decrypted !== null, 'the payload is not a JSON object');
    const pushed: PushRequest = { path, endpoint: `${this.#origin}${path}`, ttl, topic: typeof topic === 'string' ? topic : undefined, payload: decrypted as PushRequest['payload'] };
    this.requests.push(pushed);
    const answer = this.scripts.next(pushed.endpoint) ?? this.#answer(pushed);
    if (answer === 'hang') return;
    response.writeHead(answer.status, answer.headers).end(answer.body === undefined ? '' : String(answer.body));
  }
}
