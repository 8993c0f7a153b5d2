// A webhook receiver's check of `Paymesh-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`: each
// v1 is HMAC-SHA256 of "<t>.<raw body>" with an endpoint secret, one per live secret (two during a
// rotation). Web Crypto only, so it runs in Node 20+, Deno, workers and browsers alike.
import type { webhooks } from './generated/openapi.ts';

/** An event as Paymesh delivers it (the API document's `webhooks`): `{ id, object: 'event', type, created, data }`. */
export type WebhookEvent = {
  [Type in keyof webhooks]: webhooks[Type] extends { post: { requestBody: { content: { 'application/json': infer Event } } } } ? Event : never;
}[keyof webhooks];

export type WebhookVerificationReason =
  | 'signature_header_missing'
  | 'signature_header_malformed'
  | 'timestamp_outside_tolerance'
  | 'signature_mismatch'
  | 'body_not_json';

/** The delivery is not to be trusted: `reason` says why (answer it 400 and do not act on it). */
export class WebhookVerificationError extends Error {
  readonly reason: WebhookVerificationReason;

  constructor(reason: WebhookVerificationReason, message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
    this.reason = reason;
  }
}

export interface VerifyWebhookOptions {
  /** How far `t` may be from now, either way (default 300: five minutes). */
  readonly toleranceSeconds?: number;
  /** The time now in ms (default Date.now). */
  readonly now?: () => number;
}

const maxHeaderChars = 4096;
const signatureHex = /^[0-9a-fA-F]{64}$/;

/**
 * Checks the signature over the raw body (the bytes received, before any JSON parsing) and returns
 * the event. Throws WebhookVerificationError when the header is missing or malformed, the
 * timestamp is outside the tolerance, or no v1 matches `secret`.
 */
export async function verifyWebhook(rawBody: string | Uint8Array | ArrayBuffer, signatureHeader: string | null | undefined, secret: string, options: VerifyWebhookOptions = {}): Promise<WebhookEvent> {
  // The secret and the tolerance are the receiver's own configuration: a mistake there is loud.
  if (secret.length === 0) throw new TypeError('verifyWebhook: the secret is empty');
  const toleranceSeconds = options.toleranceSeconds ?? 300;
  if (!(toleranceSeconds >= 0)) throw new TypeError(`verifyWebhook: toleranceSeconds must be ≥ 0, got ${toleranceSeconds}`);

  if (signatureHeader === null || signatureHeader === undefined || signatureHeader === '') throw new WebhookVerificationError('signature_header_missing', 'no Paymesh-Signature header');
  const parsed = parseSignatureHeader(signatureHeader);
  if (parsed === undefined) throw new WebhookVerificationError('signature_header_malformed', 'the Paymesh-Signature header is not t=<seconds>,v1=<hex>…');
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - parsed.timestampSeconds) > toleranceSeconds) {
    throw new WebhookVerificationError('timestamp_outside_tolerance', `the signature's timestamp is ${nowSeconds - parsed.timestampSeconds} s from now (tolerance ${toleranceSeconds} s): a replay, or a clock that is off`);
  }

  const encoder = new TextEncoder();
  const body = typeof rawBody === 'string' ? encoder.encode(rawBody) : rawBody instanceof Uint8Array ? rawBody : new Uint8Array(rawBody);
  const prefix = encoder.encode(`${parsed.timestampSeconds}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix);
  signed.set(body, prefix.length);
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const expected = new Uint8Array(await crypto.subtle.sign('HMAC', key, signed));
  // Every candidate is compared in full, matched or not: the time taken says nothing of which
  // byte differed or which v1 matched.
  let matched = false;
  for (const candidate of parsed.signatures) if (constantTimeEqual(candidate, expected)) matched = true;
  if (!matched) throw new WebhookVerificationError('signature_mismatch', 'no v1 signature matches this secret and body');

  try {
    return JSON.parse(new TextDecoder().decode(body)) as WebhookEvent;
  } catch (error) {
    throw new WebhookVerificationError('body_not_json', `the signed body is not JSON: ${(error as Error).message}`);
  }
}

/** Exactly one `t` of digits and at least one well-formed v1; other schemes are skipped (a later v2 beside v1). */
function parseSignatureHeader(header: string): { timestampSeconds: number; signatures: Uint8Array[] } | undefined {
  if (header.length > maxHeaderChars) return undefined;
  let timestampSeconds: number | undefined;
  const signatures: Uint8Array[] = [];
  for (const element of header.split(',')) {
    const separator = element.indexOf('=');
    if (separator <= 0) return undefined;
    const name = element.slice(0, separator).trim();
    const value = element.slice(separator + 1).trim();
    if (name === 't') {
      if (timestampSeconds !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestampSeconds = Number(value);
    } else if (name === 'v1') {
      if (!signatureHex.test(value)) return undefined;
      signatures.push(hexBytes(value));
    }
  }
  if (timestampSeconds === undefined || signatures.length === 0) return undefined;
  return { timestampSeconds, signatures };
}

function hexBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false; // both are SHA-256 sized here: the length is no secret
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}
