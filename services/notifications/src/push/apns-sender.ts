// Apple Push Notification service through its HTTP/2 provider API, authenticated by a provider
// token (ES256 JWT). Apple asks providers to keep one connection open and reuse it, not to
// connect per notification, so one session carries every POST /3/device/<token> stream.
import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import http2 from 'node:http2';
import { SignJWT } from 'jose';
import type { DeliveryOutcome } from '../delivery/delivery-outcome.ts';
import { parseRetryAfterMs, redactToken, type PushMessage } from './push-message.ts';

export interface ApnsSenderOptions {
  /** The .p8 PKCS#8 EC (P-256) key Apple issued. */
  readonly keyPem: string;
  readonly keyId: string;
  readonly teamId: string;
  /** The app's bundle id. */
  readonly topic: string;
  /** default https://api.push.apple.com ; http:// means cleartext HTTP/2 (tests) */
  readonly url?: string;
  readonly timeoutMs: number;
  readonly now?: () => Date;
}

// Apple refuses a provider token issued more than an hour ago, and answers 429
// TooManyProviderTokenUpdates to tokens renewed more often than every 20 minutes: 50 minutes
// sits between, with room for clock skew.
const providerTokenLifetimeMs = 50 * 60_000;

// apns-collapse-id is at most 64 bytes.
const maxCollapseIdBytes = 64;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Namespace of the name-based UUIDs derived from delivery ids that are not UUIDs themselves.
// Changing it changes every derived apns-id: never do.
const apnsIdNamespace = 'a3b5c0e2-6f1d-4c7e-9b8a-2d4f6e8a0c13';

/** The apns-id of a delivery: its id when that is a UUID, else a UUID (RFC 9562 v5) derived from it, the same on every retry. */
function apnsIdFor(messageId: string): string {
  if (uuidPattern.test(messageId)) return messageId.toLowerCase();
  const hash = createHash('sha1').update(Buffer.from(apnsIdNamespace.replaceAll('-', ''), 'hex')).update(messageId, 'utf8').digest();
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x50, 6); // version 5
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8); // RFC 9562 variant
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

interface ProviderToken {
  readonly value: string;
  readonly issuedAtMs: number;
}

type Exchange =
  | { readonly answered: true; readonly status: number; readonly headers: http2.IncomingHttpHeaders; readonly text: string }
  | { readonly answered: false; readonly failure: string };

export class ApnsSender {
  readonly #key: KeyObject;
  readonly #keyId: string;
  readonly #teamId: string;
  readonly #topic: string;
  readonly #url: string;
  readonly #timeoutMs: number;
  readonly #now: () => Date;
  #session: http2.ClientHttp2Session | undefined;
  #providerToken: ProviderToken | undefined;
  /** Signing in flight: concurrent sends share it, for two fresh tokens on one connection count as too many updates. */
  #pendingProviderToken: Promise<ProviderToken> | undefined;
  #closed = false;

  constructor(options: ApnsSenderOptions) {
    // Parsed now so that a wrong key stops the service at boot, not at the first notification.
    this.#key = createPrivateKey(options.keyPem);
    const curve = this.#key.asymmetricKeyDetails?.namedCurve;
    if (this.#key.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
      throw new Error(`APNs key must be a P-256 EC key (the .p8 file), not ${this.#key.asymmetricKeyType} ${curve ?? ''}`.trim());
    }
    this.#keyId = options.keyId;
    this.#teamId = options.teamId;
    this.#topic = options.topic;
    this.#url = options.url ?? 'https://api.push.apple.com';
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? (() => new Date());
  }

  async send(deviceToken: string, message: PushMessage): Promise<DeliveryOutcome> {
    if (this.#closed) throw new Error('ApnsSender.send() called after close()');
    const providerToken = await this.#currentProviderToken();
    const apnsId = apnsIdFor(message.id);
    const collapseId = Buffer.byteLength(message.id, 'utf8') <= maxCollapseIdBytes ? message.id : apnsId;
    // aps goes last so that a data key named "aps" cannot replace the alert.
    const body = JSON.stringify({ ...message.data, aps: { alert: { title: message.title, body: message.body } } });
    const exchange = await this.#exchange(body, {
      ':method': 'POST',
      ':path': `/3/device/${encodeURIComponent(deviceToken)}`,
      authorization: `bearer ${providerToken.value}`,
      'apns-topic': this.#topic,
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-id': apnsId,
      // A retry of a delivery that did arrive replaces it on the device instead of showing twice.
      'apns-collapse-id': collapseId,
      'content-type': 'application/json',
    });
    if (!exchange.answered) return { kind: 'retry', error: `APNs: ${redactToken(exchange.failure, deviceToken)}` };
    return this.#outcome(exchange, providerToken, apnsId, deviceToken);
  }

  /** Closes the HTTP/2 session once its streams in flight are answered. */
  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined || session.closed || session.destroyed) return;
    await new Promise<void>((resolve) => session.close(resolve));
  }

  #outcome(exchange: Extract<Exchange, { answered: true }>, providerToken: ProviderToken, apnsId: string, deviceToken: string): DeliveryOutcome {
    const { status: statusCode, headers, text } = exchange;
    if (statusCode === 200) {
      const answeredId = headers['apns-id'];
      return { kind: 'delivered', statusCode, providerId: typeof answeredId === 'string' ? answeredId : apnsId };
    }
    const reason = readReason(text);
    const error = `APNs answered ${statusCode} ${redactToken(reason ?? text, deviceToken)}`.trim();
    if (statusCode === 410) return { kind: 'invalid_target', error, statusCode };
    if (statusCode === 400 && (reason === 'BadDeviceToken' || reason === 'DeviceTokenNotForTopic')) return { kind: 'invalid_target', error, statusCode };
    if (statusCode === 403 && (reason === 'ExpiredProviderToken' || reason === 'InvalidProviderToken')) {
      // Sign anew for the next attempt, unless a concurrent send already has.
      if (this.#providerToken === providerToken) this.#providerToken = undefined;
      return { kind: 'retry', error, statusCode };
    }
    if (statusCode === 429 || statusCode >= 500) {
      const retryAfter = headers['retry-after'];
      const retryAfterMs = parseRetryAfterMs(typeof retryAfter === 'string' ? retryAfter : undefined, this.#now());
      return retryAfterMs === undefined ? { kind: 'retry', error, statusCode } : { kind: 'retry', error, statusCode, retryAfterMs };
    }
    return { kind: 'failed', error, statusCode };
  }

  async #currentProviderToken(): Promise<ProviderToken> {
    const cached = this.#providerToken;
    if (cached !== undefined && this.#now().getTime() - cached.issuedAtMs < providerTokenLifetimeMs) return cached;
    this.#pendingProviderToken ??= this.#signProviderToken().finally(() => {
      this.#pendingProviderToken = undefined;
    });
    return this.#pendingProviderToken;
  }

  async #signProviderToken(): Promise<ProviderToken> {
    const issuedAtMs = this.#now().getTime();
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: this.#keyId })
      .setIssuer(this.#teamId)
      .setIssuedAt(Math.floor(issuedAtMs / 1000))
      .sign(this.#key);
    const token = { value, issuedAtMs };
    this.#providerToken = token;
    return token;
  }

  /** One request/response on the shared session; every way it can end resolves, none rejects. */
  #exchange(body: string, headers: http2.OutgoingHttpHeaders): Promise<Exchange> {
    return new Promise((resolve) => {
      let session: http2.ClientHttp2Session;
      let stream: http2.ClientHttp2Stream;
      try {
        session = this.#connectedSession();
        stream = session.request(headers);
      } catch (error) {
        // request() throws when the session is already closing (a GOAWAY raced us).
        resolve({ answered: false, failure: error instanceof Error ? error.message : String(error) });
        return;
      }

      let settled = false;
      const settle = (exchange: Exchange): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(exchange);
      };
      const timer = setTimeout(() => {
        settle({ answered: false, failure: `no answer within ${this.#timeoutMs} ms` });
        stream.close(http2.constants.NGHTTP2_CANCEL);
        this.#probe(session);
      }, this.#timeoutMs);

      let status: number | undefined;
      let responseHeaders: http2.IncomingHttpHeaders = {};
      let text = '';
      stream.on('response', (received) => {
        responseHeaders = received;
        status = Number(received[':status']);
      });
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        text += chunk;
      });
      stream.on('end', () => {
        settle(status === undefined ? { answered: false, failure: 'stream ended without a response' } : { answered: true, status, headers: responseHeaders, text });
      });
      stream.on('error', (error) => settle({ answered: false, failure: error.message }));
      stream.on('close', () => settle({ answered: false, failure: `stream closed with code ${stream.rstCode}` }));
      stream.end(body);
    });
  }

  #connectedSession(): http2.ClientHttp2Session {
    const current = this.#session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.#url);
    const forget = (): void => {
      if (this.#session === session) this.#session = undefined;
    };
    // A session error also fails each stream in flight, and those report it as their outcome;
    // here we only stop using the broken session so the next send connects afresh.
    session.on('error', forget);
    // After a GOAWAY the server finishes the streams it has but accepts no new one.
    session.on('goaway', forget);
    session.on('close', forget);
    this.#session = session;
    return session;
  }

  /**
   * After a timeout: a PING tells a slow APNs from a dead connection (a silently dropped TCP
   * stream would time every later send out too); without an answer, the session is dropped.
   */
  #probe(session: http2.ClientHttp2Session): void {
    if (session.closed || session.destroyed) return;
    const deadline = setTimeout(() => session.destroy(new Error(`APNs session answered no PING within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    const sent = session.ping((error) => {
      clearTimeout(deadline);
      if (error !== null) session.destroy(error);
    });
    if (!sent) clearTimeout(deadline);
  }
}

/** APNs error bodies are { "reason": "BadDeviceToken" } (410 adds a timestamp). */
function readReason(text: string): string | undefined {
  if (text === '') return undefined;
  try {
    const reason: unknown = (JSON.parse(text) as { reason?: unknown } | null)?.reason;
    return typeof reason === 'string' ? reason : undefined;
  } catch {
    // Not JSON (a proxy's error page): the caller reports the raw text instead.
    return undefined;
  }
}
