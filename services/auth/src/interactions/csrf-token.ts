// CSRF protection of the login and consent forms: a token bound to the interaction (HMAC of its
// uid with the provider's cookie key). A cross-site page knows neither the uid nor the key; the
// interaction cookies are SameSite=Lax besides (no help against another origin of the same site),
// and a post whose Origin is another origin or `null` is refused even with the right token.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function csrfToken(key: string, uid: string): string {
  return createHmac('sha256', key).update(`interaction:${uid}`).digest('base64url');
}

export function csrfTokenMatches(key: string, uid: string, presented: unknown): boolean {
  if (typeof presented !== 'string') return false;
  const expected = Buffer.from(csrfToken(key, uid));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
