// Firebase Cloud Messaging over the HTTP v1 API: a JWT signed with the service account's key buys an
// OAuth2 access token (RFC 7523 bearer grant), which authorises POST /v1/projects/{id}/messages:send.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { DeliveryOutcome } from '../delivery/delivery-outcome.ts';
import { describeFetchError, parseRetryAfterMs, redactToken, type PushMessage } from './push-message.ts';

export interface FcmServiceAccount {
  readonly project_id: string;
  readonly client_email: string;
  readonly private_key: string;
  readonly token_uri: string;
}

export interface FcmSenderOptions {
  readonly serviceAccount: FcmServiceAccount;
  /** default https://fcm.googleapis.com */
  readonly apiUrl?: string;
  /** Bounds one send, the wait for an access token included. */
  readonly timeoutMs: number;
  readonly now?: () => Date;
}

const serviceAccountFields = ['project_id', 'client_email', 'private_key', 'token_uri'] as const;

/** Reads the service-account JSON file Firebase hands out; only the four fields the sender uses are kept. */
export function parseFcmServiceAccount(json: string): FcmServiceAccount {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    // The parser's message quotes the input, and the input holds a private key: say only where.
    const position = error instanceof SyntaxError ? / position \d+/.exec(error.message)?.[0] ?? '' : '';
    throw new Error(`FCM service account is not valid JSON (parse error at${position || ' an unknown position'})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('FCM service account JSON must be an object');
  const record = parsed as Record<string, unknown>;
  for (const field of serviceAccountFields) {
    const value = record[field];
    if (typeof value !== 'string' || value.trim() === '') throw new Error(`FCM service account JSON is missing "${field}" (a non-empty string)`);
  }
  return {
    project_id: record.project_id as string,
    client_email: record.client_email as string,
    private_key: record.private_key as string,
    token_uri: record.token_uri as string,
  };
}

const messagingScope = 'https://www.googleapis.com/auth/firebase.messaging';
const jwtBearerGrant = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
// Google refuses assertions that live longer than an hour.
const assertionLifetimeSeconds = 3600;
// Renew before Google's expiry so that a token never dies between our check and FCM's.
const tokenRefreshMarginMs = 5 * 60_000;

interface AccessToken {
  readonly value: string;
  readonly refreshAtMs: number;
}

interface FcmError {
  /** The canonical status (NOT_FOUND, INVALID_ARGUMENT…) and the FcmError detail's errorCode (UNREGISTERED…). */
  readonly codes: ReadonlySet<string>;
  readonly message: string;
  /** Whether the request's registration token, not some other field, is what was refused. */
  readonly aboutToken: boolean;
}

export class FcmSender {
  readonly #account: FcmServiceAccount;
  readonly #privateKey: KeyObject;
  readonly #sendUrl: string;
  readonly #timeoutMs: number;
  readonly #now: () => Date;
  #token: AccessToken | undefined;
  /** The token request in flight: concurrent sends wait for it rather than each asking Google. */
  #pendingToken: Promise<AccessToken> | undefined;

  constructor(options: FcmSenderOptions) {
    this.#account = options.serviceAccount;
    // Parsed now so that a wrong key stops the service at boot, not at the first notification.
    this.#privateKey = createPrivateKey(options.serviceAccount.private_key);
    if (this.#privateKey.asymmetricKeyType !== 'rsa') throw new Error(`FCM service account private_key must be an RSA key, not ${this.#privateKey.asymmetricKeyType}`);
    const apiUrl = (options.apiUrl ?? 'https://fcm.googleapis.com').replace(/\/+$/, '');
    this.#sendUrl = `${apiUrl}/v1/projects/${encodeURIComponent(options.serviceAccount.project_id)}/messages:send`;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? (() => new Date());
  }

  async send(deviceToken: string, message: PushMessage): Promise<DeliveryOutcome> {
    const deadline = AbortSignal.timeout(this.#timeoutMs);
    let token: AccessToken;
    try {
      token = await untilAborted(this.#accessToken(), deadline);
    } catch (error) {
      // A refused service account is a configuration fault that a redeploy fixes: keep the message.
      return { kind: 'retry', error: `FCM access token: ${describeFetchError(error, this.#timeoutMs)}` };
    }

    const payload = { message: { token: deviceToken, notification: { title: message.title, body: message.body }, data: message.data } };
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.#sendUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token.value}`, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(payload),
        signal: deadline,
      });
      text = await response.text();
    } catch (error) {
      return { kind: 'retry', error: `FCM send: ${describeFetchError(error, this.#timeoutMs)}` };
    }
    return this.#outcome(response, text, token, deviceToken);
  }

  #outcome(response: Response, text: string, token: AccessToken, deviceToken: string): DeliveryOutcome {
    const statusCode = response.status;
    if (response.ok) {
      const name = tryParseJsonObject(text)?.name;
      return typeof name === 'string' ? { kind: 'delivered', statusCode, providerId: name } : { kind: 'delivered', statusCode };
    }

    const fcmError = parseFcmError(text);
    const error = `FCM answered ${statusCode} ${[...fcmError.codes].join('/')}: ${redactToken(fcmError.message, deviceToken)}`;
    if (statusCode === 401) {
      // The access token was revoked or expired early. Forget it, unless a concurrent send already
      // replaced it with a newer one.
      if (this.#token === token) this.#token = undefined;
      return { kind: 'retry', error, statusCode };
    }
    if (statusCode === 429 || statusCode >= 500) {
      const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), this.#now());
      return retryAfterMs === undefined ? { kind: 'retry', error, statusCode } : { kind: 'retry', error, statusCode, retryAfterMs };
    }
    if (fcmError.codes.has('UNREGISTERED')) return { kind: 'invalid_target', error, statusCode };
    if (statusCode === 403 && fcmError.codes.has('SENDER_ID_MISMATCH')) return { kind: 'invalid_target', error, statusCode };
    // INVALID_ARGUMENT also covers our own mistakes (a reserved data key, a payload too big): only a
    // refused registration token means the device is gone.
    if (statusCode === 400 && fcmError.aboutToken) return { kind: 'invalid_target', error, statusCode };
    return { kind: 'failed', error, statusCode };
  }

  async #accessToken(): Promise<AccessToken> {
    const cached = this.#token;
    if (cached !== undefined && this.#now().getTime() < cached.refreshAtMs) return cached;
    this.#pendingToken ??= this.#requestAccessToken().finally(() => {
      this.#pendingToken = undefined;
    });
    return this.#pendingToken;
  }

  async #requestAccessToken(): Promise<AccessToken> {
    const requestedAtMs = this.#now().getTime();
    const issuedAtSeconds = Math.floor(requestedAtMs / 1000);
    const assertion = await new SignJWT({ scope: messagingScope })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(this.#account.client_email)
      .setAudience(this.#account.token_uri)
      .setIssuedAt(issuedAtSeconds)
      .setExpirationTime(issuedAtSeconds + assertionLifetimeSeconds)
      .sign(this.#privateKey);

    const response = await fetch(this.#account.token_uri, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: jwtBearerGrant, assertion }),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const text = await response.text();
    const body = tryParseJsonObject(text);
    if (!response.ok) {
      // Google answers { error, error_description }, e.g. invalid_grant "Invalid JWT Signature."
      const reason = body === undefined ? text.slice(0, 300) : `${String(body.error)}: ${String(body.error_description ?? '')}`;
      throw new Error(`token endpoint answered ${response.status} ${reason}`);
    }
    const value = body?.access_token;
    const expiresInSeconds = body?.expires_in;
    if (typeof value !== 'string' || value === '' || typeof expiresInSeconds !== 'number') {
      throw new Error('token endpoint answered without access_token and expires_in');
    }
    const token = { value, refreshAtMs: requestedAtMs + expiresInSeconds * 1000 - tokenRefreshMarginMs };
    this.#token = token;
    return token;
  }
}

/**
 * The promise, unless the signal aborts first. The token request is shared, so one send's deadline
 * must not cancel it for the others: this send only stops waiting.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function tryParseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    // Not JSON (a proxy's HTML error page, an empty body): the caller reports the raw text instead.
    return undefined;
  }
}

/** Reads google.rpc.Status: { error: { code, message, status, details: [FcmError | BadRequest…] } }. */
function parseFcmError(text: string): FcmError {
  const error = tryParseJsonObject(text)?.error;
  if (typeof error !== 'object' || error === null) return { codes: new Set(), message: text, aboutToken: false };
  const { message, status, details } = error as { message?: unknown; status?: unknown; details?: unknown };
  const codes = new Set<string>();
  if (typeof status === 'string') codes.add(status);
  let tokenFieldViolated = false;
  for (const detail of Array.isArray(details) ? details : []) {
    if (typeof detail !== 'object' || detail === null) continue;
    const { errorCode, fieldViolations } = detail as { errorCode?: unknown; fieldViolations?: unknown };
    if (typeof errorCode === 'string') codes.add(errorCode);
    for (const violation of Array.isArray(fieldViolations) ? fieldViolations : []) {
      if ((violation as { field?: unknown } | null)?.field === 'message.token') tokenFieldViolated = true;
    }
  }
  const errorMessage = typeof message === 'string' ? message : text;
  return { codes, message: errorMessage, aboutToken: tokenFieldViolated || /registration token/i.test(errorMessage) };
}
