// Test helpers for the pages of the authorization flow.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';

/**
 * A minimal browser: a cookie jar and no automatic redirects, so each hop can be inspected.
 * `localAddress`: the loopback address it speaks from (what the gateway reports as the client's).
 */
export class Browser {
  readonly #cookies = new Map<string, string>();
  readonly #localAddress: string | undefined;

  constructor(options: { localAddress?: string } = {}) {
    this.#localAddress = options.localAddress;
  }

  /** The value of a cookie the browser holds. */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  async request(url: string | URL, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...init.headers };
    if (this.#cookies.size > 0) headers.cookie = [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
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

export function form(html: string): { action: string; csrf: string } {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(action !== undefined && csrf !== undefined, 'the page has a form with a CSRF token');
  return { action: action.replaceAll('&amp;', '&'), csrf };
}

