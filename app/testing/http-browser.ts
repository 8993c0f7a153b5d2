// A browser as far as protocol tests need one: a cookie jar, no automatic redirects (each hop can
// be inspected), and form posts that carry the Origin a browser sends for a page of the same
// origin. What a person does on the pages is tested in Chromium (test/browser/); this is for the
// checks around them (redirect URIs, PKCE, codes, tokens, forged requests).
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';

/**
 * A minimal browser for protocol tests. `localAddress`: the loopback address it speaks from (what the gateway reports as the client's).
 */
export class HttpBrowser {
  readonly #cookies = new Map<string, string>();
  readonly #localAddress: string | undefined;

  constructor(options: { localAddress?: string } = {}) {
    this.#localAddress = options.localAddress;
  }

  /** The value of a cookie the browser holds. */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /**
   * `origin`: what the Origin header of a POST says; by default the target's own origin (our
   * forms post to the origin that served them), `false` for none (a client that is not a browser).
   */
  async request(url: string | URL, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; origin?: string | false } = {}) {
    const headers: Record<string, string> = {};
    if (init.method === 'POST' && init.origin !== false) headers.origin = init.origin ?? new URL(url).origin;
    Object.assign(headers, init.headers);
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = this.#localAddress === undefined
      ? await fetch(url, { method: init.method ?? 'GET', headers, body, redirect: 'manual', signal: AbortSignal.timeout(10_000) })
      : await requestFrom(this.#localAddress, url, init.method ?? 'GET', headers, body);
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(cookie) || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    const text = await response.text();
    const location = response.headers.get('location');
    return { status: response.status, text, headers: response.headers, location: location === null ? undefined : new URL(location, url).toString() };
  }

  /** Follows redirects until a page is shown or the browser is sent to `stopAt`. */
  async follow(url: string, stopAt: string) {
    let current = await this.request(url);
    for (let hops = 0; hops < 10 && current.location !== undefined && !current.location.startsWith(stopAt); hops++) {
      current = await this.request(current.location);
    }
    return current;
  }
}

/** A fetch-like response over node:http, which (unlike fetch) can choose the local address. */
function requestFrom(localAddress: string, url: string | URL, method: string, headers: Record<string, string>, body: string | undefined): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers, localAddress, family: localAddress.includes(':') ? 6 : 4, agent: false, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const answer = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) answer.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
        // These statuses carry no body (and Response refuses one).
        const empty = [101, 204, 205, 304].includes(res.statusCode!);
        resolve(new Response(empty ? null : Buffer.concat(chunks), { status: res.statusCode, headers: answer }));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** The first form of a sign-in page: where it posts and its CSRF token. */
export function formOn(html: string): { action: string; csrf: string } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(action !== undefined && csrf !== undefined, 'the page has a form with a CSRF token');
  return { action: action.replaceAll('&amp;', '&'), csrf };
}
