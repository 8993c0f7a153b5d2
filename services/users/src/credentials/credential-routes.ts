// The internal credential check that auth calls on login. Only a service token with the
// `users:credentials` scope (auth's client) may call it; it answers the same way, in about the
// same time, whether the account is unknown, deleted, disabled or the password is wrong.
import { Type } from '@fastify/type-provider-typebox';
import { protectedRoutes, requireScope } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import { platformErrors } from '@paymesh/platform/errors';
import { loginKey } from '@paymesh/platform/login-key';
import { usersErrors } from '../errors.ts';
import { findUserByLogin } from '../accounts/user.ts';
import { verifyPassword } from './password-hash.ts';

/**
 * At most `perMinute` checks per login name in any 60 seconds on this replica: auth throttles
 * logins per name and address already; this bounds what a caller holding auth's token could try.
 * A sliding window (the times of the last `perMinute` checks per name): a fixed window per clock
 * minute would let twice the limit through around each minute's turn.
 */
class CheckLimiter {
  readonly #perMinute: number;
  /** Per login key (every spelling of a name is one), the times of its latest checks (at most `perMinute`), oldest first. */
  readonly #recent = new Map<string, number[]>();
  #sweptAtMs = Date.now();

  constructor(perMinute: number) {
    this.#perMinute = perMinute;
  }

  allow(login: string): boolean {
    const nowMs = Date.now();
    const since = nowMs - 60_000;
    // Names not checked within the window are forgotten once a minute, so the map holds at most
    // the last two minutes' names.
    if (nowMs - this.#sweptAtMs >= 60_000) {
      for (const [key, times] of this.#recent) if (times[times.length - 1]! <= since) this.#recent.delete(key);
      this.#sweptAtMs = nowMs;
    }
    const key = loginKey(login);
    const times = this.#recent.get(key) ?? [];
    while (times.length > 0 && times[0]! <= since) times.shift();
    if (times.length >= this.#perMinute) return false;
    times.push(nowMs);
    this.#recent.set(key, times);
    return true;
  }
}

export function credentialRoutes(app: HttpServer, runtime: Runtime, options: { checksPerMinute: number }): void {
  const limiter = new CheckLimiter(options.checksPerMinute);
  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/users/internal/verify-credentials', {
      schema: { body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }) },
    }, async (request) => {
      if (request.caller.kind !== 'service') throw platformErrors.forbidden('Only services may check credentials.');
      requireScope(request.caller, 'users:credentials');
      if (!limiter.allow(request.body.username)) throw usersErrors.tooManyChecks();
      const user = await findUserByLogin(runtime.database.db, request.body.username);
      const usable = user !== undefined && user.status === 'active';
      const ok = await verifyPassword(usable ? user.password_hash : null, request.body.password);
      if (!ok || !usable) throw usersErrors.invalidCredentials();
      return { user_id: Number(user.id), username: user.username, role: user.role };
    });
  });
}
