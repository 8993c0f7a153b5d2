// Route protection by scope (Fastify encapsulation): every route registered inside
// `protectedRoutes` is authenticated (the caller is on `request.caller`), and what it requires
// beyond that is declared on the route, `config: { scope: 'payments:write', callers: ['admin', 'service'] }`,
// and checked by one hook here. A route outside must say `config: { public: true }`
// (route-declarations.ts refuses to start otherwise), so no route is public by omission.
import type { FastifyContextConfig, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HttpServer } from '../http-server.ts';
import { platformErrors } from '../errors.ts';
import { isAdmin, type Caller } from './caller.ts';
import { protectedRouteOptions } from './route-declarations.ts';
import { InvalidTokenError, type TokenVerifier } from './token-verifier.ts';

/** Who may call a route: any user, an admin (role and admin scope, see `isAdmin`), a service. */
export type CallerRole = 'user' | 'admin' | 'service';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
  interface FastifyContextConfig {
    /** Outside `protectedRoutes` only: the route answers anyone, on purpose. */
    public?: true;
    /**
     * The scope the caller's token must carry: one for every caller, or one per kind of caller
     * (`{ service: 'users:read' }`: services need it, users act on their own records).
     */
    scope?: string | { readonly user?: string; readonly service?: string };
    /** Who may call at all (checked before the scope); anyone authenticated when absent. */
    callers?: readonly CallerRole[];
  }
}

const noQuery = Type.Object({}, { additionalProperties: false });

export function protectedRoutes(app: HttpServer, verify: TokenVerifier, register: (scope: HttpServer) => void | Promise<void>): void {
  void app.register(async (scope) => {
    scope.decorateRequest('caller', null as unknown as Caller);
    scope.addHook('onRoute', (route) => {
      if (route.config?.public === true) throw new Error(`${String(route.method)} ${route.url} is declared public inside protectedRoutes: register it outside`);
      if (route.config?.callers?.length === 0) throw new Error(`${String(route.method)} ${route.url} admits no callers: leave callers out to admit anyone authenticated`);
      // A route that declares no query takes none: `POST /payments?confirm=false` is refused
      // (parameter_unknown) instead of charging as if the caller had not asked.
      if (route.schema?.querystring === undefined) route.schema = { ...route.schema, querystring: noQuery };
      // Likewise a route that declares no body takes none (`{}` or nothing): a field sent to
      // POST /notifications/deliveries/:id/redeliver is named, not silently dropped. Routes that
      // read their own body (the contract's, `documentedBody`) are left to do so.
      if (route.schema?.body === undefined && route.config?.documentedBody === undefined) {
        route.preValidation = [...(route.preValidation === undefined ? [] : [route.preValidation].flat()), refuseUndeclaredBody];
      }
      protectedRouteOptions.add(route);
    });
    scope.addHook('onRequest', async (request) => {
      request.caller = await authenticateRequest(request, verify);
    });
    // After validation, where the handlers used to check: an authenticated caller's malformed
    // request still answers 400 before its scope is looked at.
    scope.addHook('preHandler', async (request) => {
      authorize(request.caller, request.routeOptions.config, `${request.method} ${request.routeOptions.url ?? request.url}`);
    });
    await register(scope.withTypeProvider<TypeBoxTypeProvider>());
  });
}

async function refuseUndeclaredBody(request: FastifyRequest): Promise<void> {
  const { body } = request;
  if (body === undefined || body === null) return;
  if (typeof body !== 'object' || Array.isArray(body)) throw platformErrors.malformedBody('This request takes no body (or an empty JSON object).');
  const [first] = Object.keys(body);
  if (first !== undefined) throw platformErrors.unknownParameter(first);
}

/**
 * Whether the request carries Authorization more than once. Node keeps the first and drops the
 * rest, and a proxy in front may keep another one: the two would then act for different callers.
 */
export function repeatsAuthorization(rawHeaders: readonly string[]): boolean {
  let seen = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.length === 13 && rawHeaders[i]!.toLowerCase() === 'authorization' && ++seen > 1) return true;
  return false;
}

async function authenticateRequest(request: FastifyRequest, verify: TokenVerifier): Promise<Caller> {
  const header = request.headers.authorization;
  if (repeatsAuthorization(request.raw.rawHeaders)) throw platformErrors.authorizationRepeated();
  if (header === undefined || header === '') throw platformErrors.authorizationMissing();
  const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i.exec(header);
  if (match === null) throw platformErrors.invalidToken();
  try {
    return await verify(match[1]!);
  } catch (error) {
    if (error instanceof InvalidTokenError) {
      request.log.info({ reason: error.message }, 'access token refused');
      throw platformErrors.invalidToken();
    }
    throw error;
  }
}

/** The route's declared requirements: who may call (403 forbidden), then the scope (403 insufficient_scope). */
function authorize(caller: Caller, config: FastifyContextConfig, route: string): void {
  const { callers } = config;
  if (callers !== undefined) {
    if (!callers.some((role) => plays(caller, role))) throw platformErrors.forbidden(`Only ${callers.map((role) => roleNames[role]).join(' and ')} may call ${route}.`);
  }
  const scope = typeof config.scope === 'string' ? config.scope : config.scope?.[caller.kind];
  if (scope === undefined) return;
  if (!caller.scopes.has(scope)) throw platformErrors.insufficientScope(scope);
}

const roleNames: Record<CallerRole, string> = { user: 'users', admin: 'admins', service: 'services' };

function plays(caller: Caller, role: CallerRole): boolean {
  if (role === 'admin') return isAdmin(caller);
  return caller.kind === role;
}
