// What the browser tests share: Debian's Chromium driven by playwright-core (no browser download),
// and a relying party on loopback, the app a person signs in to: it starts the authorization code
// flow with PKCE, takes the code at its redirect URI, exchanges it at the token endpoint and calls
// the API with the token, as any certified client library (openid-client) does.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import * as oidc from 'openid-client';
import { after, afterEach, before, beforeEach } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * The `skip` option of a browser suite: why it is skipped when Chromium is absent (a newcomer's
 * `npm test`), or false. Under REQUIRE_BROWSER=1 (.ci/run) a missing Chromium fails the file instead.
 */
export function skipWithoutChromium(): string | false {
  if (existsSync(chromiumPath)) return false;
  if (process.env.REQUIRE_BROWSER === '1') throw new Error(`REQUIRE_BROWSER=1 but there is no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
  return `no Chromium at ${chromiumPath}: browser tests skipped (apt-get install chromium; CI sets REQUIRE_BROWSER=1)`;
}

/** Headless Chromium with a throwaway profile. */
function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // No sandbox (containers, root), and nothing that reaches beyond loopback on its own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** What `chromiumSuite` gives a suite's tests: set by its hooks, read them in tests. */
export interface ChromiumSuite {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly page: Page;
}

/**
 * One Chromium for the suite (call in the describe's body), and a fresh context (its own cookies)
 * with one page for every test; a test fails when Chromium reports a CSP violation on any page.
 */
export function chromiumSuite(): ChromiumSuite {
  const suite = {} as { browser: Browser; context: BrowserContext; page: Page };
  let cspViolations: string[] = [];
  before(async () => {
    suite.browser = await launchChromium();
  });
  after(async () => {
    await suite.browser?.close();
  });
  beforeEach(async () => {
    suite.context = await suite.browser.newContext();
    cspViolations = [];
    suite.context.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    suite.page = await suite.context.newPage();
  });
  afterEach(async () => {
    await suite.context.close();
    assert.deepEqual(cspViolations, [], 'our pages break none of their own CSP');
  });
  return suite;
}

export interface AppClient {
  readonly clientId: string;
  /** The resource the app's tokens are for: first-party apps the whole platform, others one service. */
  readonly resource: string;
  readonly scope: string;
  /** What the app reads with its access token once signed in. */
  readonly apiPath: string;
}

/** What the app got at its redirect URI: tokens and the API's answer, or the error the provider sent back. */
export type Landing =
  | { readonly ok: true; readonly tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers; readonly apiStatus: number }
  | { readonly ok: false; readonly error: string };

export interface RelyingParty {
  /** http://127.0.0.1:<port>: another site than the platform's localhost. */
  readonly url: string;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  /** Client metadata to register in OAUTH_CLIENTS for `client`. */
  metadata(client: AppClient, extra?: Record<string, unknown>): Record<string, unknown>;
  /** Discovers the issuer (once the platform runs). */
  connect(issuer: string, gatewayUrl: string): Promise<void>;
  /** Where a person starts signing in to `client` (the app's own "Sign in" link). */
  signInUrl(client: AppClient, options?: { responseMode?: 'form_post' }): string;
  /** Where the app sends a person to sign out (RP-initiated logout with id_token_hint). */
  signOutUrl(client: AppClient, idToken: string): string;
  /** Each landing at the redirect URI, in order. */
  readonly landings: Landing[];
  /** Serves `html` at `${url}/page/<name>` (and on any other host name of the server): pages of another site. */
  servePage(name: string, html: string): void;
  refresh(client: AppClient, refreshToken: string): Promise<unknown>;
  close(): Promise<void>;
}

const readBody = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** Starts the app's server on a free loopback port; register its metadata, start the platform, then `connect`. */
export async function startRelyingParty(): Promise<RelyingParty> {
  let discovered: oidc.Configuration | undefined;
  const configs = new Map<string, oidc.Configuration>();
  const pending = new Map<string, { client: AppClient; verifier: string }>();
  const pages = new Map<string, string>();
  const landings: Landing[] = [];
  let apiBase = '';
  /** The client's configuration: the issuer's discovered metadata with this client's id. */
  const configOf = (client: AppClient) => {
    const known = configs.get(client.clientId);
    if (known !== undefined) return known;
    if (discovered === undefined) assert.fail('connect() first');
    const config = new oidc.Configuration(discovered.serverMetadata(), client.clientId, undefined, oidc.None());
    oidc.allowInsecureRequests(config);
    configs.set(client.clientId, config);
    return config;
  };
  // PKCE S256 (RFC 7636), computed here rather than awaited from openid-client's helper.
  const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

  const land = async (request: IncomingMessage, url: URL): Promise<Landing> => {
    // The code comes in the query, or in a form post (response_mode=form_post).
    const body = request.method === 'POST' ? await readBody(request) : undefined;
    const params = body === undefined ? url.searchParams : new URLSearchParams(body);
    const state = params.get('state') ?? '';
    const started = pending.get(state);
    if (started === undefined) return { ok: false, error: 'unknown state' };
    pending.delete(state);
    if (params.get('error') !== null) return { ok: false, error: params.get('error')! };
    const current = body === undefined ? url : new Request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    const tokens = await oidc.authorizationCodeGrant(configOf(started.client), current, { pkceCodeVerifier: started.verifier, expectedState: state }, { resource: started.client.resource });
    const api = await fetch(`${apiBase}${started.client.apiPath}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    await api.arrayBuffer();
    return { ok: true, tokens, apiStatus: api.status };
  };

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', rp.url);
    const send = (status: number, html: string) => response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    if (url.pathname === '/callback') {
      land(request, url).then(
        (landing) => {
          landings.push(landing);
          send(200, landing.ok ? `<h1 id="signed-in">Signed in as ${landing.tokens.claims()?.sub}</h1>` : `<h1 id="refused">Not signed in: ${landing.error}</h1>`);
        },
        (error: unknown) => {
          landings.push({ ok: false, error: String(error) });
          send(500, `<h1 id="failed">${String(error)}</h1>`);
        },
      );
    } else if (url.pathname === '/signed-out') {
      send(200, '<h1 id="signed-out">Signed out of the app</h1>');
    } else if (url.pathname.startsWith('/page/') && pages.has(url.pathname.slice(6))) {
      send(200, pages.get(url.pathname.slice(6))!);
    } else {
      send(404, 'not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const rp: RelyingParty = {
    url: base,
    redirectUri: `${base}/callback`,
    postLogoutRedirectUri: `${base}/signed-out`,
    landings,
    metadata: (client, extra = {}) => ({
      client_id: client.clientId, token_endpoint_auth_method: 'none', redirect_uris: [rp.redirectUri], post_logout_redirect_uris: [rp.postLogoutRedirectUri],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: client.scope, ...extra,
    }),
    async connect(issuer, gatewayUrl) {
      apiBase = gatewayUrl;
      discovered = await oidc.discovery(new URL(issuer), 'discovery', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
    },
    signInUrl(client, options = {}) {
      const config = configOf(client);
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      pending.set(state, { client, verifier });
      const params: Record<string, string> = {
        redirect_uri: rp.redirectUri, scope: client.scope, resource: client.resource, state,
        code_challenge: challengeOf(verifier), code_challenge_method: 'S256',
      };
      if (options.responseMode !== undefined) params.response_mode = options.responseMode;
      return oidc.buildAuthorizationUrl(config, params).toString();
    },
    signOutUrl: (client, idToken) => oidc.buildEndSessionUrl(configOf(client), { id_token_hint: idToken, post_logout_redirect_uri: rp.postLogoutRedirectUri }).toString(),
    servePage: (name, html) => void pages.set(name, html),
    refresh: (client, refreshToken) => oidc.refreshTokenGrant(configOf(client), refreshToken, { resource: client.resource }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return rp;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page as it is now, one line each (none: []). */
export async function seriousAxeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern: the page itself
  // still runs no inline script.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    type Violation = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };
    const { violations } = await (globalThis as unknown as { axe: { run: (options: unknown) => Promise<{ violations: Violation[] }> } }).axe.run({ resultTypes: ['violations'] });
    return violations.map(({ id, impact, help, nodes }) => ({ id, impact, help, targets: nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.help} (${v.targets.join(' ')})`);
}
