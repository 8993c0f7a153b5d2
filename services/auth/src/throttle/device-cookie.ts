// The device cookie: a random id, signed with the provider's cookie key, that a browser (or an API
// client keeping cookies) gets when it signs in. Where it signed in to an account before, it is a
// known device for that account (login-throttle.ts): not held back by the account's slowdown, and
// locked by its own count, not by its address's.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export const deviceCookieName = 'paymesh_device';

export class DeviceCookie {
  readonly #keys: readonly string[];
  readonly #maxAgeSec: number;
  readonly #secure: boolean;

  /** `keys`: newest first (COOKIE_KEYS); a cookie signed with any of them is read. */
  constructor(keys: readonly string[], options: { maxAgeSec: number; secure: boolean }) {
    if (keys.length === 0) throw new Error('the device cookie needs a signing key');
    this.#keys = keys;
    this.#maxAgeSec = options.maxAgeSec;
    this.#secure = options.secure;
  }

  /** A new device id (given to a browser that signs in without a cookie). */
  static newId(): string {
    return randomBytes(16).toString('base64url');
  }

  /** The device id of a valid cookie in a Cookie header; undefined when there is none, or it is forged. */
  read(cookieHeader: string | undefined): string | undefined {
    const value = (cookieHeader ?? '').split(';').map((part) => part.trim()).find((part) => part.startsWith(`${deviceCookieName}=`))?.slice(deviceCookieName.length + 1);
    const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
    if (match === null) return undefined;
    const [, id, signature] = match as unknown as [string, string, string];
    const given = Buffer.from(signature);
    return this.#keys.some((key) => timingSafeEqual(given, Buffer.from(sign(key, id)))) ? id : undefined;
  }

  /**
   * Sets the cookie on the raw response, beside what is already there: a reply the provider
   * finishes itself (the login page hands the browser back to it) sends it too.
   */
  set(res: ServerResponse, id: string): void {
    const cookie = [`${deviceCookieName}=${id}.${sign(this.#keys[0]!, id)}`, 'Path=/auth', `Max-Age=${this.#maxAgeSec}`, 'HttpOnly', 'SameSite=Lax', ...(this.#secure ? ['Secure'] : [])].join('; ');
    const existing = res.getHeader('set-cookie');
    res.setHeader('set-cookie', [...(existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)]), cookie]);
  }
}

function sign(key: string, id: string): string {
  return createHmac('sha256', key).update(`paymesh-device\n${id}`).digest('base64url');
}
