// The provider's own endpoints that authenticate clients (POST /auth/token, and POST /auth/request
// for pushed authorization requests) do it inside oidc-provider, past any hook of ours. So this
// middleware runs inside the provider, before its router: the route is the one the router will
// serve (provider-route-paths.ts, whatever the path's spelling), the body is read here first to learn
// which client id it presents, the attempt is counted (client-auth-throttle.ts) and the provider
// reads the same bytes; its answer tells the outcome: 401 is a failed client authentication
// (oidc-provider's invalid_client), 2xx a success, anything else never got as far as checking a
// secret, or cannot be told apart from that.
import { IncomingMessage } from 'node:http';
import * as querystring from 'node:querystring';
import { decodeJwt } from 'jose';
import type Provider from 'oidc-provider';
import type { Logger } from '@paymesh/platform/logger';
import { presentedClient } from '../oidc/authenticate-client.ts';
import { guardedRoute } from '../oidc/provider-route-paths.ts';
import type { ClientAuthEndpoint, ClientAuthThrottle } from './client-auth-throttle.ts';

type Middleware = Parameters<Provider['use']>[0];
type Context = Parameters<Middleware>[0];

// oidc-provider's own limit on a token request's body.
const maxBodyBytes = 56 * 1024;

const endpoints: Partial<Record<NonNullable<ReturnType<typeof guardedRoute>>, ClientAuthEndpoint>> = { token: 'token', pushed_authorization_request: 'par' };

/**
 * `clientScope` gives a client's registered scope (undefined for no such client): a
 * client_credentials request without a scope gets it as its default (below).
 */
export function guardProviderClientAuth(throttle: ClientAuthThrottle, logger: Logger, clientScope: (clientId: string) => Promise<string | undefined>): Middleware {
  return async (ctx, next) => {
    const route = guardedRoute(ctx.method, ctx.path);
    const endpoint = route === undefined ? undefined : endpoints[route];
    if (endpoint === undefined) return next();
    const body = await readBody(ctx.req);
    if (body === undefined) return oauthError(ctx, 400, 'invalid_request', 'failed to parse the request body');
    // The client address as the service's HTTP server decided it (middie copies Fastify's
    // request.ip, which believes X-Forwarded-For from trusted proxies only), never Koa's own.
    const ip = (ctx.req as IncomingMessage & { ip?: string }).ip ?? ctx.req.socket.remoteAddress ?? '';
    const form = formOf(ctx, body);
    const clientId = presentedClientId(ctx.get('authorization') || undefined, form);
    const ticket = await throttle.begin(endpoint, clientId, ip);
    if ('retryAfterSec' in ticket) {
      ctx.set('retry-after', String(ticket.retryAfterSec));
      return oauthError(ctx, 429, 'invalid_client', 'too many failed client authentications from this address; retry later');
    }
    const res = ctx.res;
    res.once('close', () => {
      const outcome = !res.writableFinished ? 'unchecked' : res.statusCode === 401 ? 'failed' : res.statusCode < 300 ? 'succeeded' : 'unchecked';
      throttle.settle(ticket, outcome).catch((error: unknown) => logger.error({ err: error }, 'recording a client authentication outcome failed'));
    });
    // RFC 6749 §3.3: a request without a scope gets a default or is refused. The provider would mint
    // a token with no scope, good for nothing but a 403 later; as Auth0 does, the default is every
    // scope the client registered (the provider keeps those of the resource asked for). Only for a
    // client that exists: the provider still authenticates it, and refuses an unknown one as before.
    let sent = body;
    if (endpoint === 'token' && form.grant_type === 'client_credentials' && (form.scope === undefined || (typeof form.scope === 'string' && form.scope.trim() === '')) && clientId !== undefined && isUtf8Form(ctx)) {
      const scope = await clientScope(clientId);
      if (scope !== undefined && scope !== '') sent = Buffer.from(querystring.stringify({ ...form, scope }));
    }
    // What the provider reads is what we counted.
    ctx.req = ctx.request.req = replay(ctx.req, sent);
    return next();
  };
}

/** The form as oidc-provider will parse it (its selective_body.js): same media type test, charset and parser. */
function formOf(ctx: Context, body: Buffer): Record<string, unknown> {
  if (!ctx.is('application/x-www-form-urlencoded')) return {};
  let text: string;
  try {
    text = ctx.request.charset ? new TextDecoder(ctx.request.charset).decode(body) : body.toString();
  } catch {
    return {}; // a charset the provider cannot decode either: it refuses the request (400), unchecked
  }
  return querystring.parse(text);
}

/** The client id as oidc-provider will read it: HTTP Basic, client_id, or a client assertion's subject. */
function presentedClientId(authorization: string | undefined, form: Record<string, unknown>): string | undefined {
  // A parameter given twice is an array, which the provider refuses: no client is checked.
  const single = (name: string) => (typeof form[name] === 'string' ? form[name] : undefined);
  const presented = presentedClient(authorization, { client_id: single('client_id') });
  if (presented.clientId !== undefined) return presented.clientId;
  const assertion = single('client_assertion');
  if (assertion === undefined) return undefined;
  try {
    const { sub } = decodeJwt(assertion);
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined; // not a JWT: the provider refuses it (400) before any key is tried
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBodyBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, received);
}

/** A form whose text is UTF-8 (or says no charset): one that can be written again as it was read. */
function isUtf8Form(ctx: Context): boolean {
  const charset = ctx.request.charset;
  return ctx.is('application/x-www-form-urlencoded') !== false && (charset === '' || charset.toLowerCase() === 'utf-8');
}

/** The request again, its body already read (or rewritten: its length follows it). */
function replay(req: IncomingMessage, body: Buffer): IncomingMessage {
  const copy = new IncomingMessage(req.socket);
  copy.method = req.method;
  copy.url = req.url;
  copy.headers = req.headers['content-length'] === undefined ? req.headers : { ...req.headers, 'content-length': String(body.length) };
  copy.rawHeaders = req.rawHeaders;
  copy.httpVersion = req.httpVersion;
  copy.httpVersionMajor = req.httpVersionMajor;
  copy.httpVersionMinor = req.httpVersionMinor;
  (copy as IncomingMessage & { ip?: string }).ip = (req as IncomingMessage & { ip?: string }).ip;
  copy.push(body);
  copy.push(null);
  copy.complete = true;
  return copy;
}

// The token endpoint's own error shape (RFC 6749 §5.2), as oidc-provider answers.
function oauthError(ctx: Context, status: number, error: string, description: string): void {
  ctx.status = status;
  ctx.set('cache-control', 'no-store');
  ctx.body = { error, error_description: description };
}
