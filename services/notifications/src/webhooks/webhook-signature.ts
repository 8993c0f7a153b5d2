// The Paymesh-Signature header: Stripe's scheme under our name. `t=<unix seconds>,v1=<hex>` where
// each v1 is HMAC-SHA256(endpoint secret, "<t>.<raw body>"). Signing the timestamp with the body
// lets a receiver refuse replays older than the tolerance; one v1 per live secret lets a receiver
// keep working during a secret rotation whichever secret it holds.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const signatureScheme = 'v1';
const defaultToleranceSec = 300;
const hexDigest = /^[0-9a-fA-F]{64}$/; // SHA-256: 32 bytes
// A real header holds a timestamp and two or three v1 values (~220 characters). Anything far
// longer is not ours, and parsing it would only cost the receiver time.
const maxHeaderChars = 4096;
const secretRandomBytes = 32;

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` with one v1 per secret (the current one first; during a rotation the previous one too). */
export function signWebhook(rawBody: string, secrets: readonly string[], timestampSec: number): string {
  if (secrets.length === 0) throw new TypeError('signWebhook needs at least one secret');
  if (secrets.some((secret) => secret.length === 0)) throw new TypeError('signWebhook was given an empty secret');
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) throw new TypeError(`signWebhook needs whole unix seconds, got ${timestampSec}`);
  const signatures = secrets.map((secret) => `${signatureScheme}=${hmacHex(secret, timestampSec, rawBody)}`);
  return [`t=${timestampSec}`, ...signatures].join(',');
}

/** The receiver's check, exported for our tests and shown in docs: true when some v1 matches this secret and |now - t| <= toleranceSec. Constant-time compare; malformed headers → false (never throws on attacker input). */
export function verifyWebhookSignature(
  header: string | undefined,
  rawBody: string | Buffer,
  secret: string,
  options: { toleranceSec?: number; nowSec?: number } = {},
): boolean {
  // The secret and options come from the receiver's own configuration, not from the request:
  // getting them wrong is a programmer error and must be loud, not a quiet "false" forever.
  if (secret.length === 0) throw new TypeError('verifyWebhookSignature was given an empty secret');
  const toleranceSec = options.toleranceSec ?? defaultToleranceSec;
  if (!(toleranceSec >= 0)) throw new TypeError(`toleranceSec must be a non-negative number, got ${toleranceSec}`);
  const nowSec = options.nowSec ?? Math.floor(Date.now() / 1000);

  const parsed = parseSignatureHeader(header);
  if (parsed === undefined) return false;
  if (Math.abs(nowSec - parsed.timestampSec) > toleranceSec) return false;

  const expected = Buffer.from(hmacHex(secret, parsed.timestampSec, rawBody), 'hex');
  // Compare against every candidate, not stopping at the first match: the work done then does not
  // depend on where (or whether) the match is.
  let matched = false;
  for (const candidate of parsed.signatures) {
    if (timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched;
}

/** A new endpoint secret: "whsec_" + 32 random bytes base64url. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(secretRandomBytes).toString('base64url')}`;
}

function hmacHex(secret: string, timestampSec: number, rawBody: string | Buffer): string {
  // Two updates rather than a concatenated string: a Buffer body is hashed byte for byte, never
  // decoded and re-encoded (which would alter invalid UTF-8 and break the signature).
  return createHmac('sha256', secret).update(`${timestampSec}.`, 'utf8').update(rawBody).digest('hex');
}

/** undefined when the header is not exactly one `t` and at least one well-formed v1. Other schemes are ignored, as Stripe does, so a later v2 can be added beside v1. */
function parseSignatureHeader(header: string | undefined): { timestampSec: number; signatures: Buffer[] } | undefined {
  if (typeof header !== 'string' || header.length === 0 || header.length > maxHeaderChars) return undefined;
  let timestampSec: number | undefined;
  const signatures: Buffer[] = [];
  for (const element of header.split(',')) {
    const separator = element.indexOf('=');
    if (separator <= 0) return undefined;
    const key = element.slice(0, separator).trim();
    const value = element.slice(separator + 1).trim();
    if (key === 't') {
      if (timestampSec !== undefined) return undefined;
      // Digits only: Number() alone would accept "", "0x1f", "1e9" and " 12 ".
      if (!/^\d{1,12}$/.test(value)) return undefined;
      timestampSec = Number(value);
    } else if (key === signatureScheme) {
      if (!hexDigest.test(value)) return undefined;
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestampSec === undefined || signatures.length === 0) return undefined;
  return { timestampSec, signatures };
}
