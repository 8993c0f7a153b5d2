// Route protection by scope (Fastify encapsulation): register routes inside `protectedRoutes` and
// they cannot forget authentication. The caller is on `request.caller`.
import type { FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HttpServer } from '../http-server.ts';
import { platformErrors } from '../errors.ts';
import type { Caller } from './caller.ts';
import { InvalidTokenError, type TokenVerifier } from './token-verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

export function protectedRoutes(app: HttpServer, verify: TokenVerifier, register: (scope: HttpServer) => void | Promise<void>): void {
  void app.register(async (scope) => {
    scope.decorateRequest('caller', null as unknown as Caller);
    scope.addHook('onRequest', async (request) => {
      request.caller = await authenticateRequest(request, verify);
    });
    await register(scope.withTypeProvider<TypeBoxTypeProvider>());
  });
}

async function authenticateRequest(request: FastifyRequest, verify: TokenVerifier): Promise<Caller> {
  const header = request.headers.authorization;
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

/** Throws 403 unless the caller's token carries `scope`. */
export function requireScope(caller: Caller, scope: string): void {
  if (!caller.scopes.has(scope)) throw platformErrors.insufficientScope(scope);
}
