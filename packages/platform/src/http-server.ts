// The Fastify instance every service starts from: strict validation (no silent stripping or
// coercion), the platform error shape, request ids that cross services, the request duration
// histogram, and /healthz + /readyz.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RawServerDefault } from 'fastify';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from './logger.ts';
import { statusClass, type Metrics } from './metrics.ts';
import { routeTemplateOf } from './route-template.ts';
import { isDatabaseUnavailable } from './db/database-unavailable.ts';
import { AppError, platformErrors } from './errors.ts';
import { useJsonParser } from './json-body.ts';
import { requireRouteDeclarations } from './auth/route-declarations.ts';
import { RouteMethods, routerOptions } from './route-methods.ts';
import { acceptRequestId, newRequestId, requestContext } from './request-context.ts';

export type HttpServer = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface ReadinessCheck {
  readonly name: string;
  readonly check: () => Promise<void>;
}

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: readonly ReadinessCheck[];
  readonly bodyLimitBytes?: number;
  /**
   * The peers whose X-Forwarded-* headers are believed (addresses, CIDR ranges, `loopback`…):
   * services believe the gateway or the ingress (TRUSTED_PROXIES) and nobody else, or any client
   * could choose the address it is throttled by; the gateway is the public edge and believes nobody.
   */
  readonly trustedProxies: readonly string[];
  /** False for the gateway, which streams bodies to the services (they parse and check them). */
  readonly parsesBodies?: boolean;
  /**
   * On close, how long at most the listener stays open answering every new request with 503
   * shutting_down (Connection: close, Retry-After) before it closes; it closes sooner once no
   * connection is left. A client whose kept-alive connection would otherwise be cut as it sends
   * gets an answer it can retry on instead of a reset.
   */
  readonly drainMs?: number;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One line per request comes from our onResponse hook (with the route template), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // The request id is already on every line through the logger's mixin; don't bind it twice.
    childLoggerFactory: (logger, _bindings, childOptions) => logger.child({}, childOptions),
    bodyLimit: options.bodyLimitBytes ?? 1024 * 1024,
    routerOptions: { ...routerOptions },
    requestIdHeader: false,
    genReqId: (req) => acceptRequestId(req.headers['x-request-id']) ?? newRequestId(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true, useDefaults: true } },
    // An empty list believes nobody (Fastify would read `[]` the same; false says it plainly).
    trustProxy: options.trustedProxies.length === 0 ? false : [...options.trustedProxies],
    // Our onRequest hook answers while closing, in the platform's error shape.
    return503OnClosing: false,
    // Errors raised before routing (a malformed URL, say) get the platform shape and a request id too.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      void sendError(reply, toAppError(error));
    },
    forceCloseConnections: 'idle',
    // What the HTTP parser refuses before any route (a Content-Length beside a Transfer-Encoding,
    // headers over Node's limit, a request that never finished) answers in the platform's shape too.
    clientErrorHandler: answerClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (options.parsesBodies !== false) useJsonParser(app);
  requireRouteDeclarations(app);

  // A response finished while the server is closing must not leave its connection in keep-alive:
  // close() would wait for it to idle out (72 s) instead of returning once requests are done.
  let closing = false;
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Arrived after the drain began: refused before any work, so a retry is always safe.
    if (closing) return void sendError(reply, platformErrors.shuttingDown());
    // Bodies are read as sent: one compressed (or claimed to be) is refused, not parsed as if plain.
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return void sendError(reply, platformErrors.unsupportedContentEncoding(encoding));
    requestContext.run({ requestId: request.id }, done);
  });
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  app.addHook('preClose', async () => {
    closing = true;
    // Keep the listener open while connections remain (each is closed after its next answer),
    // up to drainMs; then Fastify closes the listener and whatever sits idle.
    const until = Date.now() + (options.drainMs ?? 0);
    while (connections.size > 0 && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 25));
  });
  app.addHook('onSend', async (_request, reply) => {
    // Every answer, errors and 404s included: no MIME sniffing of JSON into HTML, and nothing an
    // API says (tokens, balances, personal data) kept by a browser or a shared cache. A route that
    // means to be cached (JWKS, discovery) sets its own Cache-Control.
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (closing) reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = routeTemplateOf(request.raw) ?? request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_class: statusClass(reply.statusCode) };
    options.metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    options.metrics.httpRequests.inc(labels);
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    // The path only: a query string can carry a secret (an emailed link's token) that logs must not keep.
    request.log[level]({ method: request.method, url: request.url.split('?')[0], route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });

  // A path that exists under other methods is 405 with Allow (RFC 9110 §15.5.6), not "no route".
  const routes = new RouteMethods();
  app.addHook('onRoute', (route) => routes.add(route.method, route.url ?? route.path));
  app.setNotFoundHandler((request, reply) => {
    const allowed = routes.allowedFor(request.url);
    // A route of this very method that found nothing (reply.callNotFound()) is a plain 404.
    const wrongMethod = allowed.length > 0 && !allowed.includes(request.method);
    return sendError(reply, wrongMethod ? platformErrors.methodNotAllowed(request.method, allowed) : platformErrors.routeNotFound(request.method, request.url));
  });
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const appError = error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? platformErrors.unsupportedMediaType(request.headers['content-type'] ?? '(none)') : toAppError(error);
    if (appError.code === 'database_unavailable') request.log.warn({ err: error }, 'request failed: the database is unavailable');
    else if (appError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else if (!(error instanceof AppError)) request.log.warn({ err: error }, 'request refused by a library error');
    return sendError(reply, appError);
  });

  app.get('/healthz', { config: { public: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { config: { public: true } }, async (request, reply) => {
    const checks: Record<string, string> = {};
    let ready = true;
    for (const { name, check } of options.readiness) {
      try {
        await check();
        checks[name] = 'ok';
      } catch (error) {
        ready = false;
        checks[name] = 'failing';
        request.log.warn({ err: error, check: name }, 'readiness check failed');
      }
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });

  return app;
}

/** Fastify's clientErrorHandler, with the platform's error body and headers; the connection is closed after it. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const answer = error.code === 'HPE_HEADER_OVERFLOW' ? platformErrors.headersTooLarge()
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? platformErrors.requestTimeout()
      : platformErrors.requestMalformed();
  const body = JSON.stringify(answer.toBody());
  // Never in the middle of an answer already under way on this connection (Node's own handler's rule).
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !answering) {
    socket.write(`HTTP/1.1 ${answer.statusCode} ${STATUS_CODES[answer.statusCode]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`
      + `x-content-type-options: nosniff\r\ncache-control: no-store\r\nconnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

export function sendError(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.headers !== undefined) reply.headers(error.headers);
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(error.toBody());
}

/** Maps Fastify's and ajv's errors onto the platform catalogue; anything unknown is a 500. */
export function toAppError(error: FastifyError): AppError {
  if (error instanceof AppError) return error;
  if (error.validation !== undefined && error.validation.length > 0) {
    const first = error.validation[0]!;
    const params = first.params as Record<string, unknown>;
    const path = first.instancePath.replace(/^\//, '').replaceAll('/', '.');
    if (first.keyword === 'required') return platformErrors.missingParameter(joinParam(path, String(params.missingProperty)));
    if (first.keyword === 'additionalProperties') return platformErrors.unknownParameter(joinParam(path, String(params.additionalProperty)));
    const param = path === '' ? (error.validationContext ?? 'body') : path;
    return platformErrors.invalidParameter(param, `Invalid ${param}: ${first.message ?? 'not valid'}.`);
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return platformErrors.unsupportedMediaType('(unknown)');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return platformErrors.payloadTooLarge();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return platformErrors.malformedBody('The JSON body is empty.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return platformErrors.malformedBody('The request body is not valid JSON.');
  }
  if (error instanceof SyntaxError) return platformErrors.malformedBody('The request body is not valid JSON.');
  // PostgreSQL text cannot hold NUL (22021), JSONB neither (22P05): bad input, not a server
  // failure. JSON bodies are refused before this (json-body.ts); this covers forms and query strings.
  for (let e: unknown = error; e !== undefined && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: string }).code;
    if (code === '22021' || code === '22P05') return platformErrors.nulInText();
    if ((e as { cause?: unknown }).cause === e) break;
  }
  if (isDatabaseUnavailable(error)) return platformErrors.databaseUnavailable();
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    // Some of Fastify's messages quote the request (a URI too long): never more than a line of it.
    const message = error.message.length > 200 ? `${error.message.slice(0, 200)}…` : error.message;
    return new AppError(error.statusCode, 'invalid_request_error', 'request_invalid', message);
  }
  return platformErrors.internal();
}

function joinParam(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}
