// The gateway: the one public entry point in embedded mode, routing by path prefix as a
// Kubernetes Ingress does, keeping the prefix, passing the request id on. It holds no state and
// checks no tokens: every service verifies tokens itself.
import proxy from '@fastify/http-proxy';
import type { ConfigOf } from '@paymesh/platform/config';
import { platformErrors } from '@paymesh/platform/errors';
import { createHttpServer, type HttpServer } from '@paymesh/platform/http-server';
import type { Logger } from '@paymesh/platform/logger';
import type { Metrics } from '@paymesh/platform/metrics';
import type { gatewayConfigSpec } from './config.ts';

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

export async function buildGateway(config: ConfigOf<typeof gatewayConfigSpec>, logger: Logger, metrics: Metrics): Promise<HttpServer> {
  const routes = routeTable(config);
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
    // Bodies are streamed to the upstream, which applies its own limit.
    bodyLimitBytes: 10 * 1024 * 1024,
    // The public edge: what clients claim in X-Forwarded-* is not believed; we set it ourselves.
    trustProxy: false,
    drainMs: config.shutdownDrainMs,
  });
  // Service-to-service endpoints are never reachable from outside (an Ingress needs the same rule).
  app.all('/users/internal/*', async (request) => {
    throw platformErrors.routeNotFound(request.method, request.url);
  });
  for (const [prefix, upstream] of routes) {
    await app.register(proxy, {
      upstream,
      prefix,
      rewritePrefix: prefix,
      http: { requestOptions: { timeout: config.upstreamTimeoutMs } },
      replyOptions: {
        rewriteRequestHeaders: (request, headers) => ({
          ...headers,
          'x-request-id': request.id,
          'x-forwarded-host': publicOrigin.host,
          'x-forwarded-proto': publicOrigin.protocol.replace(':', ''),
          'x-forwarded-for': request.ip,
        }),
      },
    });
  }
  return app;
}
