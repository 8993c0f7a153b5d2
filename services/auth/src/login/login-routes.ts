// The contract's first-party login and logout (docs/adr/0003-first-party-login-and-revocation.md).
import type Provider from 'oidc-provider';
import type { ResourceServer } from 'oidc-provider';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { tokenRevokedSubject, type TokenRevoked } from '@paymesh/platform/auth/revocation-list';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import type { ServiceClient } from '@paymesh/platform/service-client';
import { platformErrors } from '@paymesh/platform/errors';
import { authErrors } from '../errors.ts';
import { mintUserToken } from './mint-user-token.ts';

export function loginRoutes(app: HttpServer, runtime: Runtime, provider: Provider, resourceServer: ResourceServer, users: ServiceClient): void {
  app.post('/auth/login', async (request) => {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    for (const [param, maxLength] of [['username', 254], ['password', 1024]] as const) {
      const value = body[param];
      if (typeof value !== 'string' || value === '') throw authErrors.invalidLoginInput(param);
      // Longer than any account can have: the same answer as wrong credentials, without asking users.
      if (value.length > maxLength) throw authErrors.invalidCredentials();
    }
    const checked = await users.request<{ user_id: number; role: 'user' | 'admin' }>({
      method: 'POST',
      path: '/users/internal/verify-credentials',
      body: { username: body.username, password: body.password },
    });
    if (checked.status === 401) throw authErrors.invalidCredentials();
    if (checked.status !== 200) {
      request.log.error({ status: checked.status, body: checked.body }, 'credential check failed');
      throw platformErrors.serviceUnavailable();
    }
    const minted = await mintUserToken(provider, resourceServer, { id: String(checked.body.user_id), role: checked.body.role });
    return { token: minted.token, access_token: minted.token, token_type: 'Bearer', expires_in: minted.expiresInSec, scope: minted.scope };
  });

  protectedRoutes(app, runtime.verify, (scope) => {
    // Revokes the presented token on every service: recorded here, announced by event.
    scope.post('/auth/logout', async (request) => {
      const { caller } = request;
      const revoked: TokenRevoked = { jti: caller.tokenId, expiresAt: caller.expiresAtSec };
      await runtime.database.db.transaction(async (tx) => {
        await runtime.revocations.add(revoked, tx);
        await enqueueEvent(tx, tokenRevokedSubject, revoked);
      });
      runtime.relay.kick();
      return { success: true, message: 'Logged out' };
    });
  });
}
