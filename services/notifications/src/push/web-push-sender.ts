// Web Push (RFC 8030) to a browser's push service: the payload encrypted for the subscription
// (RFC 8291, aes128gcm) and the request signed with our VAPID key (RFC 8292).
import { createHash } from 'node:crypto';
import webpush, { type RequestDetails } from 'web-push';
import type { DeliveryOutcome } from '../delivery/delivery-outcome.ts';
import { pinnedPost, untilAborted, type PinnedResponse, type PinnedTarget } from '../delivery/pinned-post.ts';
import { TargetRefusedError } from '../webhooks/target-guard.ts';
import { describeFetchError, parseRetryAfterMs, redactToken, truncateToken, type PushMessage } from './push-message.ts';

export interface WebPushSubscription {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

export interface WebPushSenderOptions {
  /** The uncompressed P-256 public key (65 bytes), base64url without padding, as `web-push generate-vapid-keys` prints it. */
  readonly vapidPublicKey: string;
  /** The P-256 private scalar (32 bytes), base64url without padding. */
  readonly vapidPrivateKey: string;
  /** mailto: or https: */
  readonly subject: string;
  readonly timeoutMs: number;
  /** How long the push service keeps a message for an offline browser. Default one day. */
  readonly ttlSeconds?: number;
  /**
   * Accept http:// endpoints (tests against a local push service). Off by default: a real push
   * service is https, and the endpoint comes from a browser, so anything else is refused.
   */
  readonly allowInsecureEndpoints?: boolean;
  /**
   * Checks an endpoint's host against private networks and answers the address to connect to
   * (the endpoint comes from a browser, that is from a user). Throws TargetRefusedError.
   */
  readonly checkTarget: (url: string) => Promise<PinnedTarget>;
}

// A payment notice that waited a day for the browser to come online has lost its point.
const defaultTtlSeconds = 24 * 60 * 60;

/** The Topic header: at most 32 base64url characters (RFC 8030 §5.4), the same on every retry. */
function topicFor(messageId: string): string {
  return createHash('sha256').update(messageId, 'utf8').digest('base64url').slice(0, 32);
}

export class WebPushSender {
  readonly #vapidDetails: { readonly subject: string; readonly publicKey: string; readonly privateKey: string };
  readonly #timeoutMs: number;
  readonly #ttlSeconds: number;
  readonly #allowInsecureEndpoints: boolean;
  readonly #checkTarget: (url: string) => Promise<PinnedTarget>;

  constructor(options: WebPushSenderOptions) {
    this.#vapidDetails = { subject: options.subject, publicKey: options.vapidPublicKey, privateKey: options.vapidPrivateKey };
    // Signs a throwaway header so that malformed keys or subject stop the service at boot; the
    // library's errors name what is wrong without quoting the key.
    webpush.getVapidHeaders('https://push.example', options.subject, options.vapidPublicKey, options.vapidPrivateKey, 'aes128gcm');
    this.#timeoutMs = options.timeoutMs;
    this.#ttlSeconds = options.ttlSeconds ?? defaultTtlSeconds;
    this.#allowInsecureEndpoints = options.allowInsecureEndpoints ?? false;
    this.#checkTarget = options.checkTarget;
  }

  async send(subscription: WebPushSubscription, message: PushMessage): Promise<DeliveryOutcome> {
    const endpoint = URL.parse(subscription.endpoint);
    if (endpoint === null) return { kind: 'failed', error: `Web Push endpoint ${truncateToken(subscription.endpoint)} is not a URL` };
    const secure = endpoint.protocol === 'https:';
    if (!secure && !(this.#allowInsecureEndpoints && endpoint.protocol === 'http:')) {
      return { kind: 'failed', error: `Web Push endpoint must be https, not ${endpoint.protocol}` };
    }

    const payload = JSON.stringify({ title: message.title, body: message.body, data: message.data, id: message.id });
    let details: RequestDetails;
    try {
      // generateRequestDetails, not sendNotification: the latter always speaks https (no local
      // push service in tests) and its timeout only bounds socket idleness, not the whole answer.
      details = webpush.generateRequestDetails({ endpoint: subscription.endpoint, keys: { p256dh: subscription.keys.p256dh, auth: subscription.keys.auth } }, payload, {
        vapidDetails: this.#vapidDetails,
        TTL: this.#ttlSeconds,
        contentEncoding: 'aes128gcm',
        topic: topicFor(message.id),
      });
    } catch (error) {
      // Bad subscription keys (wrong length, not base64url): they will never encrypt.
      return { kind: 'failed', error: `Web Push subscription refused: ${error instanceof Error ? error.message : String(error)}` };
    }

    const headers: Record<string, string> = {};
    // The library's typings say string, but TTL and Content-Length come as numbers; fetch computes
    // Content-Length itself from the body.
    for (const [name, value] of Object.entries(details.headers as Record<string, string | number>)) {
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }

    const where = `push service ${endpoint.origin}`;
    // One deadline for the whole attempt: the address check, connect, TLS and the answer.
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let target: PinnedTarget;
    try {
      target = await untilAborted(this.#checkTarget(details.endpoint), signal);
    } catch (error) {
      // A private address will never be right: the device goes. A name that does not resolve
      // may be a passing DNS outage, like any other error here: tried again.
      if (error instanceof TargetRefusedError && error.reason !== 'unresolvable') return { kind: 'invalid_target', error: `${where} refused: ${error.reason}` };
      return { kind: 'retry', error: `${where}: ${describeFetchError(error, this.#timeoutMs)}` };
    }
    let response: PinnedResponse;
    try {
      // Connected to the checked address; redirects are never followed (they would hand our VAPID
      // token and the ciphertext to another origin).
      response = await pinnedPost(details.endpoint, target, { headers, body: details.body ?? '', signal });
    } catch (error) {
      return { kind: 'retry', error: `${where}: ${describeFetchError(error, this.#timeoutMs)}` };
    }
    const text = response.snippet;

    const { statusCode } = response;
    if (statusCode >= 200 && statusCode < 300) {
      // RFC 8030 answers 201 with the Location of the message resource it created.
      const location = response.headers.location;
      return location === undefined ? { kind: 'delivered', statusCode } : { kind: 'delivered', statusCode, providerId: location };
    }
    const error = `${where} answered ${statusCode}${text === '' ? '' : `: ${redactToken(text, subscription.endpoint)}`}`;
    // 404 and 410: the subscription expired or the browser unsubscribed.
    if (statusCode === 404 || statusCode === 410) return { kind: 'invalid_target', error, statusCode };
    if (statusCode === 429 || statusCode >= 500) {
      const retryAfterMs = parseRetryAfterMs(response.headers['retry-after'] ?? null, new Date());
      return retryAfterMs === undefined ? { kind: 'retry', error, statusCode } : { kind: 'retry', error, statusCode, retryAfterMs };
    }
    // 400 malformed, 401/403 VAPID refused (e.g. the subscription was made for another key),
    // 413 payload too large: none improves with time.
    return { kind: 'failed', error, statusCode };
  }
}
