// The contract's first-party login and logout (docs/adr/0003-first-party-login-and-revocation.md),
// the login guarded against password guessing (throttle/login-throttle.ts, docs/security.md).
import { Type } from '@fastify/type-provider-typebox';
import type { ProviderRef } from '../oidc/provider-ref.ts';
import type { ResourceServer } from 'oidc-provider';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import { TokenRevoked } from '../events.ts';
import { enqueue } from '@paymesh/platform/events/enqueue';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer, formOrJson } from '@paymesh/platform/openapi/use-open-api';
import type { Runtime } from '@paymesh/platform/runtime';
import type { ServiceClient } from '@paymesh/platform/service-client';
import { platformErrors } from '@paymesh/platform/errors';
import { authErrors } from '../errors.ts';
import type { DeviceCookie } from '../throttle/device-cookie.ts';
import type { LoginThrottle } from '../throttle/login-throttle.ts';
import { announceNewLogin } from './announce-new-login.ts';
import { checkCredentials } from './check-credentials.ts';
import { mintUserToken } from './mint-user-token.ts';

const signedIn = Type.Object({
  token: Type.String({ description: 'The access token (a JWT, RFC 9068); the same as `access_token`, kept for the compatibility contract.' }),
  access_token: Type.String({ description: 'The access token (a JWT, RFC 9068), for every Paymesh service.' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires.' }),
  scope: Type.String({ description: 'The scopes granted, space-separated (an admin\'s include users:admin).' }),
}, { description: 'Signed in: an access token for the user. No refresh token: sign in again when it expires.' });

/** What POST /auth/login reads (requiredString() below checks it: the contract's own 400). */
const logInBody = Type.Object({
  username: Type.String({ description: 'The username, or the account\'s email address.' }),
  password: Type.String(),
}, { description: 'A form post or JSON; other fields are ignored, as the compatibility contract\'s clients (a login form\'s submit button, say) may send them.' });

const loggedOut = Type.Object({
  success: Type.Literal(true),
  message: Type.String({ description: 'A sentence for a person, fixed by the compatibility contract.' }),
}, { description: 'The token used for this request is revoked on every service.' });

export function loginRoutes(app: HttpServer, runtime: Runtime, providerRef: ProviderRef, resourceServer: ResourceServer, users: ServiceClient, throttle: LoginThrottle, devices: DeviceCookie): void {
  app.post('/auth/login', {
    config: { public: true, documentedBody: { schema: logInBody, consumes: formOrJson } },
    schema: {
      response: {
        200: signedIn,
        400: errorAnswer('username or password is missing or empty (parameter_missing), or not a string (parameter_invalid).'),
        401: errorAnswer('Wrong username or password, or the account cannot sign in; the same for an unknown account (invalid_credentials).'),
        429: errorAnswer('Too many failed logins for this account or from this address; Retry-After says when to try again (too_many_attempts).'),
        503: errorAnswer('The users service could not be asked; retry later (service_unavailable).'),
      },
    },
  }, async (request, reply) => {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const username = requiredString(body, 'username');
    const password = requiredString(body, 'password');
    // Counted before anything about the account is looked at, so that a known and an unknown
    // username are counted, refused and answered alike. API clients that keep cookies get the
    // device cookie too (a known device is not held back when someone else guesses at the account).
    const outcome = await throttle.attempt(username, { ip: request.ip, device: devices.read(request.headers.cookie) }, async () => {
      // Longer than any account can have: a wrong credential (counted as one), without asking users.
      if (username.length > 254) return undefined;
      // Characters as users counts them (code points), or a long emoji passphrase could never log in.
      if ([...password].length > 1024) return undefined;
      return checkCredentials(users, runtime.logger, username, password);
    }, announceNewLogin(request));
    if (outcome.status === 'refused') throw authErrors.tooManyAttempts(outcome.retryAfterSec);
    if (outcome.status === 'failed') throw authErrors.invalidCredentials();
    const user = outcome.value;
    devices.set(reply.raw, outcome.device);
    const minted = await mintUserToken(providerRef.current, resourceServer, { id: user.id, role: user.role });
    return { token: minted.token, access_token: minted.token, token_type: 'Bearer', expires_in: minted.expiresInSec, scope: minted.scope } as const;
  });

  protectedRoutes(app, runtime.verify, (scope) => {
    // Revokes the presented token on every service: recorded here, announced by event.
    scope.post('/auth/logout', { schema: { response: { 200: loggedOut } } }, async (request) => {
      const { caller } = request;
      const revoked: TokenRevoked = { jti: caller.tokenId, expiresAt: caller.expiresAtSec };
      await runtime.database.db.transaction(async (tx) => {
        await runtime.revocations.add(revoked, tx);
        await enqueue(tx, TokenRevoked, revoked);
      });
      return { success: true, message: 'Logged out' } as const;
    });
  });
}

function requiredString(body: Record<string, unknown>, param: 'username' | 'password'): string {
  const value = body[param];
  if (value !== undefined && value !== null && typeof value !== 'string') throw platformErrors.invalidParameter(param, `Invalid ${param}: must be a string.`);
  if (typeof value !== 'string' || value === '') throw authErrors.invalidLoginInput(param);
  return value;
}
