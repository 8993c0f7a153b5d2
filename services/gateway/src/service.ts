// The gateway: the one public entry point in embedded mode, routing by path prefix as a
// Kubernetes Ingress does, keeping the prefix, passing the request id on. It holds no state and
// checks no tokens: every service verifies tokens itself. Hosted by the kit as an edge (no
// database, no events): the same runMain, the same servers and the same ordered shutdown. Beside
// the routes it serves the API's documents (/openapi.json), the reference site (/docs, ADR 26)
// and the web dashboard (/ and /app/…, ADR 27).
import type { Agent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import proxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy';
import type { FastifyReply, preHandlerAsyncHookHandler } from 'fastify';
import { apiReferencePath } from '@paymesh/platform/api-reference-client';
import { webAppPath } from '@paymesh/platform/web-app-client';
import type { ConfigOf } from '@paymesh/platform/config';
import { platformErrors } from '@paymesh/platform/errors';
import { repeatsAuthorization } from '@paymesh/platform/auth/authenticate';
import { createHttpServer, sendError, type HttpServer } from '@paymesh/platform/http-server';
import type { Logger } from '@paymesh/platform/logger';
import type { Metrics } from '@paymesh/platform/metrics';
import { defineEdge } from '@paymesh/platform/service-declaration';
import { platformWideAudience } from '@paymesh/platform/service-config';
import { gatewayConfigSpec } from './config.ts';
import { gatewayErrors } from './errors.ts';
import { isBlockedPath, isPlainPath } from './path-guard.ts';
import { capStreams } from './stream-cap.ts';
import { poolRefusals, watchPools } from './pool-metrics.ts';
import { UpstreamPool } from './upstream-pool.ts';
import { upstreamError } from './upstream-error.ts';
import { serveApiDocuments } from './api-documents.ts';
import { serveApiReference } from './api-reference.ts';
import { buildWebApp } from './build-web-app.ts';
import { serveWebApp } from './web-app.ts';

/** Path prefix → upstream, the same table as the Ingress. */
export function routeTable(config: ConfigOf<typeof gatewayConfigSpec>): [prefix: string, upstream: string][] {
  return [
    ['/auth', config.authUrl],
    ['/users', config.usersUrl],
    ['/payments', config.paymentsUrl],
    ['/payment_methods', config.paymentsUrl],
    ['/wallet', config.paymentsUrl],
    ['/notifications', config.notificationsUrl],
  ];
}

/** The live stream's path: long-lived, so it goes through its own pool and budget (ADR 28). */
export const streamPath = '/notifications/stream';

/**
 * The path prefixes the gateway serves itself: the API's documents, the reference site and the web
 * dashboard. None may fall under a service's prefix (checked at start), or a service's route could
 * be shadowed or reached.
 */
export const gatewayPaths = ['/openapi.json', '/openapi', apiReferencePath, webAppPath] as const;

/** The exact paths it serves itself: the dashboard's first page at the root (ADR 27). */
export const gatewayExactPaths = ['/'] as const;

/** What the reference site's Authorize dialog ticks at first: what a user needs to try every operation open to them. */
const apiReferenceScopes = ['users:read', 'users:write', 'payments:read', 'payments:write', 'notifications:read', 'notifications:write'];

/** What the dashboard asks for: the person's identity (username in the header), what a user needs, and users:admin, which auth grants to admins only (the admin pages need it; others' sign-ins simply go without). */
const webAppScopes = ['openid', 'profile', 'users:read', 'users:write', 'users:admin', 'payments:read', 'payments:write', 'notifications:read', 'notifications:write'];

export async function buildGateway(config: ConfigOf<typeof gatewayConfigSpec>, logger: Logger, metrics: Metrics): Promise<HttpServer> {
  const routes = routeTable(config);
  const overlapping = gatewayPaths.filter((path) => routes.some(([prefix]) => path === prefix || path.startsWith(`${prefix}/`) || prefix.startsWith(`${path}/`)));
  if (overlapping.length > 0) throw new Error(`the gateway's own paths fall under a service's prefix: ${overlapping.join(', ')}`);
  const publicOrigin = new URL(config.publicUrl);
  const app = createHttpServer({
    logger,
    metrics,
    // One check per upstream, named after the first prefix it serves.
    readiness: routes.filter(([, upstream], i) => routes.findIndex(([, u]) => u === upstream) === i).map(([prefix, upstream]) => ({
      name: prefix.slice(1),
      check: async () => {
        const response = await fetch(`${upstream}/healthz`, { signal: AbortSignal.timeout(2_000) });
        if (!response.ok) throw new Error(`status ${response.status}`);
      },
    })),
    // Bodies are streamed to the upstream, which parses them and applies its own limit.
    bodyLimitBytes: 10 * 1024 * 1024,
    parsesBodies: false,
    // The public edge: what clients claim in X-Forwarded-* is not believed; we set it ourselves.
    // Behind an Ingress the peer is the Ingress controller, whose X-Forwarded-For is believed when
    // TRUSTED_PROXIES names it, or every client would share its address.
    trustedProxies: config.trustedProxies,
    drainMs: config.shutdownDrainMs,
  });
  // Service-to-service endpoints (`<prefix>/internal/…`) are never reachable from outside (an
  // Ingress needs the same rule). The check runs on the raw path before routing, and a path that
  // could be read two ways is refused first, so no spelling reaches a blocked route.
  const blockedPrefixes = routes.map(([prefix]) => `${prefix}/internal`);
  /** The connection's byte count when each request began: how much of a streamed (chunked) body had come when its upstream gave up. */
  const bytesAtStart = new WeakMap<object, number>();
  app.addHook('onRequest', async (request, reply) => {
    bytesAtStart.set(request.raw, request.raw.socket.bytesRead);
    if (!isPlainPath(request.raw.url ?? '')) return sendError(reply, gatewayErrors.pathAmbiguous());
    if (isBlockedPath(request.raw.url ?? '', blockedPrefixes)) return sendError(reply, platformErrors.routeNotFound(request.method, request.url));
    // The proxy forwards Node's first copy only: refused here, where every copy is still seen.
    if (repeatsAuthorization(request.raw.rawHeaders)) return sendError(reply, platformErrors.authorizationRepeated());
    // The services' own limit, checked here when the size is announced: an upstream that answers
    // 413 and closes while the gateway still streams the body would otherwise look like a crash.
    if (Number(request.headers['content-length'] ?? 0) > config.maxBodyBytes) return sendError(reply, platformErrors.payloadTooLarge());
  });
  serveApiDocuments(app, { auth: config.authUrl, users: config.usersUrl, payments: config.paymentsUrl, notifications: config.notificationsUrl }, config.publicUrl);
  serveApiReference(app, { publicUrl: config.publicUrl, documentPath: '/openapi.json', resource: platformWideAudience, scopes: apiReferenceScopes });
  // Built here only when its sources changed since the last build (ADR 27).
  const webApp = await buildWebApp();
  if (webApp.built) logger.info({ version: webApp.version, buildMs: Math.round(webApp.buildMs) }, 'web dashboard built');
  serveWebApp(app, webApp, { publicUrl: config.publicUrl, resource: platformWideAudience, scopes: webAppScopes });
  // API requests and live streams have pools of their own (ADR 28): one per upstream for the API,
  // bounded in flight and in waiting time; one for the streams, bounded by count, so that no number
  // of open streams can hold the connections the API needs.
  const refusals = poolRefusals(metrics);
  const streams = capStreams({ perAddress: config.maxStreamsPerAddress, perGateway: config.maxStreams, onFull: () => refusals.inc({ pool: 'streams' }) });
  // Keyed by upstream, named after the first prefix it serves (as the readiness checks are).
  const pools = new Map<string, UpstreamPool>();
  for (const [prefix, upstream] of routes) {
    if (pools.has(upstream)) continue;
    const name = prefix.slice(1);
    pools.set(upstream, new UpstreamPool(name, config.upstreamConnections, config.upstreamWaitMs, () => refusals.inc({ pool: name })));
  }
  watchPools(metrics, { openStreams: streams.open, pools: [...pools.values()] });
  app.addHook('onClose', async () => {
    for (const pool of pools.values()) pool.close();
    streams.close();
  });
  const answered = new WeakSet<object>();
  const proxyOptions = (prefix: string, upstream: string, pool: { agents: { 'http:': Agent; 'https:': HttpsAgent }; admit: preHandlerAsyncHookHandler }): FastifyHttpProxyOptions => ({
    upstream,
    prefix,
    rewritePrefix: prefix,
    // The edge lets everything through to the services, which authenticate their own routes.
    config: { public: true },
    // Fastify runs an async preHandler (a returned reply ends the request there); the library's
    // type only declares the callback form.
    preHandler: pool.admit as unknown as FastifyHttpProxyOptions['preHandler'],
    http: { agents: pool.agents, requestOptions: { timeout: config.upstreamTimeoutMs } },
    replyOptions: {
      onError: (reply, { error }) => {
        // The proxy can report one failure twice (the request and its body stream both fail),
        // the second while the first answer is still in its onSend hooks (`reply.sent` is still
        // false): answering twice logged the request as a 500 or not at all.
        if (answered.has(reply)) return;
        answered.add(reply);
        // A chunked body over the services' limit: the service answered 413 and closed while the
        // body was still being sent, which the proxy sees as a broken pipe. The client gets the
        // 413 it caused, not a 502 (which would also look like a service down to whoever is on call).
        // The count is the connection's bytes since the request began: its chunk framing included,
        // and the first body bytes read with the headers left out, so only a body well over the
        // limit is read as one, and only when the service broke the pipe or reset the connection.
        const raw = reply.request.raw;
        const received = raw.socket.bytesRead - (bytesAtStart.get(raw) ?? raw.socket.bytesRead);
        const upstream = upstreamError(error);
        const brokenPipe = /(^|\/)(EPIPE|ECONNRESET)(\/|$)/.test(upstream.code);
        const { answer, code } = brokenPipe && raw.headers['content-length'] === undefined && received > config.maxBodyBytes
          ? { answer: platformErrors.payloadTooLarge(), code: 'body_too_large' }
          : upstream;
        // The access line (onResponse) follows and counts it; this one says why.
        reply.log[answer.statusCode === 500 ? 'error' : answer.statusCode === 413 ? 'info' : 'warn']({ upstream: prefix, code }, 'upstream did not answer');
        void sendError(reply as unknown as FastifyReply, answer);
      },
      rewriteRequestHeaders: (request, headers) => {
        const rewritten: typeof headers = {
          ...headers,
          'x-request-id': request.id,
          'x-forwarded-host': publicOrigin.host,
          'x-forwarded-proto': publicOrigin.protocol.replace(':', ''),
          'x-forwarded-for': request.ip,
        };
        // The proxy never forwards a GET's or HEAD's body: a length left behind would have the
        // service read the next request on the pooled connection (someone else's) as this body.
        if (request.method === 'GET' || request.method === 'HEAD') {
          delete rewritten['content-length'];
          delete rewritten['transfer-encoding'];
        }
        return rewritten;
      },
    },
  });
  // The stream's own route (GET only, exactly the stream's path) wins over `/notifications/*`.
  await app.register(proxy, { ...proxyOptions(streamPath, config.notificationsUrl, streams), routes: ['/'], httpMethods: ['GET'] });
  for (const [prefix, upstream] of routes) await app.register(proxy, proxyOptions(prefix, upstream, pools.get(upstream)!));
  return app;
}

export const gatewayService = defineEdge({
  name: 'gateway',
  config: gatewayConfigSpec,
  server: buildGateway,
});
