// The internal look-up of many accounts at once, for services that act on several users together:
// notifications asks for the addresses of the emails it sends in one request per batch instead of
// one per email. Only a service token with `users:read` may call it (the gateway never routes
// `/users/internal/…`); a user reads accounts through GET /users/:id.
import { Type } from '@fastify/type-provider-typebox';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { numericIdSchema } from '@paymesh/platform/ids';
import type { Runtime } from '@paymesh/platform/runtime';
import { findUsersByIds, publicUser, userSchema } from './user.ts';

/** Ids one look-up may ask for. */
const maxLookupIds = 100;

export function lookupRoutes(app: HttpServer, runtime: Runtime): void {
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/users/internal/lookup', {
      config: { callers: ['service'], scope: 'users:read' },
      schema: {
        body: Type.Object({ ids: Type.Array(numericIdSchema, { minItems: 1, maxItems: maxLookupIds, uniqueItems: true }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ object: Type.Literal('list'), data: Type.Array(Type.Union([userSchema, Type.Null()]), { description: 'Position by position: the account of the i-th id asked, or null when there is none (or it was deleted). Matched by position, never by the id in the answer (a JSON number cannot hold every bigint id).' }) }) },
      },
    }, async (request) => {
      const rows = await findUsersByIds(runtime.database.db, request.body.ids);
      const byId = new Map(rows.filter((row) => row.status !== 'deleted').map((row) => [String(row.id), row]));
      return { object: 'list' as const, data: request.body.ids.map((id) => (byId.has(id) ? publicUser(byId.get(id)!) : null)) };
    });
  });
}
