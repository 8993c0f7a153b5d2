// Client secrets of registered clients are kept as a SHA-256 digest: the clear secret is shown once,
// when issued, and the database never holds it (RFC 6819 §5.1.4.1.3). A fast hash is enough for a
// 256-bit random secret; a slow password hash would only slow every token request. Secrets given in
// configuration (SERVICE_CLIENTS, OAUTH_CLIENTS) are compared as they are, unless given hashed too.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const prefix = 'sha256:';

export function newClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashClientSecret(secret: string): string {
  return prefix + createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `presented` is the secret `stored` (a digest from hashClientSecret, or a clear secret), in constant time. */
export function clientSecretMatches(stored: string | undefined, presented: string): boolean {
  if (stored === undefined) return false;
  const expected = stored.startsWith(prefix) ? Buffer.from(stored.slice(prefix.length), 'hex') : createHash('sha256').update(stored, 'utf8').digest();
  // Digests of equal length on both sides: the comparison time says nothing about the secret.
  return timingSafeEqual(createHash('sha256').update(presented, 'utf8').digest(), expected.length === 32 ? expected : Buffer.alloc(32));
}
