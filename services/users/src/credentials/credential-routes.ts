// The internal credential check that auth calls on login. Only a service token with the
// `users:credentials` scope (auth's client) may call it; it answers the same way, in about the
// same time, whether the account is unknown, deleted, disabled or the password is wrong.
import { Type } from '@fastify/type-provider-typebox';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { loginKey } from '@paymesh/platform/login-key';
import { usersErrors } from '../errors.ts';
import { findUserByLogin } from '../accounts/user.ts';
import { RateLimit } from '@paymesh/platform/rate-limit/rate-limit';
import { verifyPassword } from '../passwords/password-hash.ts';

export function credentialRoutes(app: HttpServer, runtime: Runtime, options: { checksPerMinute: number }): void {
  // At most `checksPerMinute` checks per login name (every spelling of a name is one key) a minute
  // over every replica: auth throttles logins per name and address already; this bounds what a
  // caller holding auth's token could try.
  const limit = new RateLimit(runtime.database.db, { name: 'credential-checks', limit: options.checksPerMinute, windowSec: 60 });
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/users/internal/verify-credentials', {
      config: { callers: ['service'], scope: 'users:credentials' },
      schema: { body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }) },
    }, async (request) => {
      const waitSec = await limit.take(loginKey(request.body.username));
      if (waitSec > 0) throw usersErrors.tooManyChecks(waitSec);
      const user = await findUserByLogin(runtime.database.db, request.body.username);
      const usable = user !== undefined && user.status === 'active';
      const ok = await verifyPassword(usable ? user.password_hash : null, request.body.password);
      if (!ok || !usable) throw usersErrors.invalidCredentials();
      return { user_id: Number(user.id), username: user.username, role: user.role };
    });
  });
}
