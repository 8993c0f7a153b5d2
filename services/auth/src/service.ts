// The auth service: an OAuth 2.1 / OpenID Connect provider (oidc-provider) mounted under /auth,
// plus the contract's first-party login and logout.
import { resolve } from 'node:path';
import formbody from '@fastify/formbody';
import middie from '@fastify/middie';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConfigOf } from '@paymesh/platform/config';
import type { Runtime } from '@paymesh/platform/runtime';
import { ServiceClient } from '@paymesh/platform/service-client';
import { defineService } from '@paymesh/platform/service-declaration';
import { authConfigSpec, serviceClientPair } from './config.ts';
import { loginRoutes } from './login/login-routes.ts';
import { MintedTokenSource } from './login/minted-token-source.ts';
import type { JWK } from 'jose';
import { authServiceClientId, loginClientId } from './oidc/provider-ref.ts';
import { createProvider } from './provider/create-provider.ts';
import { ProviderHolder } from './provider/provider-holder.ts';
import { tokenClaims } from './provider/token-claims.ts';
import { platformAudience, platformAudiences, usersAudience } from './oidc/scopes.ts';
import { createTokenVerifier } from '@paymesh/platform/auth/token-verifier';
import { deleteExpiredModels } from './oidc/create-adapter.ts';
import { userAccessConsumers } from './revocation/revoke-user-access.ts';
import { TokenRevoked, UserNewLogin } from './events.ts';
import { interactionRoutes } from './interactions/interaction-routes.ts';
import { clientRoutes } from './clients/client-routes.ts';
import { tokenEndpointRoutes } from './revocation/token-endpoint-routes.ts';
import { revokeGrantTokens } from './revocation/revoke-grant-tokens.ts';
import { LoginThrottle, loginThrottleLimits } from './throttle/login-throttle.ts';
import { ClientAuthThrottle } from './throttle/client-auth-throttle.ts';
import { DeviceCookie } from './throttle/device-cookie.ts';
import { guardProviderClientAuth } from './throttle/guard-provider-client-auth.ts';
import { ThrottleMetrics } from './throttle/throttle-metrics.ts';
import { IssuedTokenMetrics } from './provider/issued-token-metrics.ts';
import { registerSigningKeyMetrics } from './keys/signing-key-metrics.ts';
import { providerRouteTemplate } from './oidc/provider-route-paths.ts';
import { setRouteTemplate } from '@paymesh/platform/route-template';
import { lookupAccount } from './oidc/find-account.ts';
import { parseRegisteredClients } from './oidc/registered-clients.ts';
import { apiExamplesIn } from '@paymesh/platform/openapi/api-examples';

/** Paths under /auth that are ours, not the provider's (the login and consent pages included). */
const ownPaths = new Set(['/login', '/logout', '/clients', '/token/revocation', '/token/introspection']);
const isOwnPath = (path: string) => ownPaths.has(path) || path.startsWith('/interaction/') || path.startsWith('/clients/');

/** What the auth routes, consumers and jobs share; built once by `context`. */
export interface AuthContext {
  readonly runtime: Runtime;
  readonly config: ConfigOf<typeof authConfigSpec>;
  /** The provider on the current signing keys (swapped when they change: `refreshKeys`). */
  readonly provider: ProviderHolder;
  readonly resourceServers: ReturnType<typeof createProvider>['resourceServers'];
  readonly users: ServiceClient;
  readonly throttle: LoginThrottle;
  readonly clientAuth: ClientAuthThrottle;
  readonly devices: DeviceCookie;
  readonly isFirstParty: (clientId: string, metadata: Record<string, unknown>) => boolean;
  /** The platform's own services' clients (SERVICE_CLIENTS and auth's own). */
  readonly isServiceClient: (clientId: string) => boolean;
}

export const authService = defineService({
  name: 'auth',
  api: {
    examples: apiExamplesIn(import.meta.dirname),
    title: 'Paymesh auth',
    description: 'Sign-in, tokens and registered clients. The OAuth 2.1 / OpenID Connect endpoints (authorize, token, userinfo, JWKS, end session) are described by the issuer\'s discovery document, /auth/.well-known/openid-configuration.',
    tags: [
      { name: 'Sessions', description: 'Password sign-in and sign-out for first-party apps.', prefix: '/auth' },
      { name: 'Tokens', description: 'Token introspection and revocation (RFC 7662, RFC 7009).', prefix: '/auth/token' },
      { name: 'Clients', description: 'Registered OAuth clients (administrators).', prefix: '/auth/clients' },
    ],
    pages: ['/auth/interaction'],
    operationIds: {
      'POST /auth/login': 'logIn',
      'POST /auth/logout': 'logOut',
      'POST /auth/token/introspection': 'introspectToken',
      'POST /auth/token/revocation': 'revokeToken',
      'POST /auth/clients/:client_id/secret': 'rotateClientSecret',
    },
  },
  config: authConfigSpec,
  migrations: resolve(import.meta.dirname, '../migrations'),

  async context(runtime, config): Promise<AuthContext> {
    const { db } = runtime.database;
    const serviceClients = config.serviceClients.map(serviceClientPair);
    // Declared before the provider, which looks accounts up through it; assigned right after.
    let users: ServiceClient | undefined;
    const usersClient = () => {
      if (users === undefined) throw new Error('users client used before it was built');
      return users;
    };
    const firstPartyClients = new Set(config.firstPartyClients);
    const serviceClientIds = new Set([...serviceClients.map((c) => c.clientId), authServiceClientId]);
    const isFirstParty = (clientId: string, metadata: Record<string, unknown>) =>
      clientId === loginClientId || firstPartyClients.has(clientId) || metadata.paymesh_first_party === true;
    const throttleMetrics = new ThrottleMetrics(runtime.metrics.registry);
    const tokenMetrics = new IssuedTokenMetrics(runtime.metrics.registry);
    registerSigningKeyMetrics(runtime.metrics.registry, () => (runtime.database.available ? db : undefined));
    const clientAuth = new ClientAuthThrottle(db, {
      maxFailuresPerClient: config.clientAuthMaxFailuresPerClientAndAddress,
      maxFailuresPerIp: config.clientAuthMaxFailuresPerIp,
      windowSec: config.loginFailureWindowSec,
      lockoutSec: config.loginLockoutSec,
    }, { logger: runtime.logger, metrics: throttleMetrics, now: () => new Date(runtime.clock.now()) });
    const keyPolicy = { rotateAfterSec: config.keyRotationDays * 86_400, publishLeadSec: config.keyPublishLeadSec, refreshSec: config.keyRefreshSec };
    if (config.keyPublishLeadSec < config.keyRefreshSec + config.jwksCooldownSec) {
      runtime.logger.warn({ lead: config.keyPublishLeadSec, refresh: config.keyRefreshSec, cooldown: config.jwksCooldownSec },
        'SIGNING_KEY_PUBLISH_LEAD_SECONDS is shorter than SIGNING_KEY_REFRESH_SECONDS + JWKS_COOLDOWN_SECONDS: after a rotation, services may refuse new tokens for a while');
    }
    // Claims are asked for once the provider serves, by then `provider` exists.
    const claims = tokenClaims({ provider: () => provider.current, serviceClientIds, isFirstParty, users: usersClient });
    /** Builds a provider on these keys; a built provider never changes its keys. */
    const build = (signingKeys: JWK[]) => {
      const built = createProvider({
        issuer: config.authIssuer,
        db,
        signingKeys,
        serviceClients,
        cookieKeys: [...config.cookieKeys],
        accessTokenTtlSec: config.accessTokenTtlSec,
        refreshTokenTtlSec: config.refreshTokenTtlSec,
        authorizationCodeTtlSec: config.authorizationCodeTtlSec,
        extraClients: parseRegisteredClients(config.oauthClients),
        extraTokenClaims: claims,
        findAccount: (accountId) => lookupAccount(usersClient(), accountId),
        isFirstParty,
      });
      // Client authentication at the provider's own endpoints (token, PAR) is throttled inside it,
      // where the route is the one its router serves.
      built.provider.use(guardProviderClientAuth(clientAuth, runtime.logger, async (clientId) => (await built.provider.Client.find(clientId).catch(() => undefined))?.scope));
      tokenMetrics.observe(built.provider);
      // A grant that ends (logout, a reused refresh token) takes its live access tokens with it.
      // oidc-provider announces it after the fact, so the write is retried rather than given up.
      built.provider.on('grant.revoked', (_ctx: unknown, grantId: string) => {
        const attempt = (left: number): void => {
          revokeGrantTokens(runtime, grantId).catch((error: unknown) => {
            runtime.logger.error({ err: error, grantId, attemptsLeft: left }, 'revoking the access tokens of an ended grant failed');
            if (left > 0) setTimeout(() => attempt(left - 1), 1_000).unref();
          });
        };
        attempt(5);
      });
      return built;
    };
    const provider = await ProviderHolder.open(db, keyPolicy, build, runtime.logger);
    const { resourceServers } = provider;
    users = new ServiceClient({ baseUrl: config.usersUrl, tokens: new MintedTokenSource(provider, resourceServers.get(usersAudience)!) });

    // One throttle for both password logins (the contract's POST /auth/login and the login page),
    // one for client authentication at every token endpoint (the provider's and ours); ADR 9.
    const throttle = new LoginThrottle(db, loginThrottleLimits(config), { logger: runtime.logger, metrics: throttleMetrics, now: () => new Date(runtime.clock.now()) });
    const devices = new DeviceCookie(config.cookieKeys, { maxAgeSec: config.loginKnownDeviceDays * 86_400, secure: new URL(config.authIssuer).protocol === 'https:' });
    return { runtime, config, provider, resourceServers, users, throttle, clientAuth, devices, isFirstParty, isServiceClient: (clientId) => serviceClientIds.has(clientId) };
  },

  async routes(app, { runtime, config, provider, resourceServers, users, throttle, clientAuth, devices, isFirstParty, isServiceClient }) {
    await app.register(formbody);
    await app.register(middie);
    app.use('/auth', (req: IncomingMessage, res: ServerResponse, next: () => void) => {
      const path = (req.url ?? '').split('?')[0]!.replace(/\/$/, '');
      if (isOwnPath(path)) return next();
      setRouteTemplate(req, providerRouteTemplate(req.method ?? 'GET', path || '/'));
      provider.handle(req, res);
    });
    loginRoutes(app, runtime, provider, resourceServers.get(platformAudience)!, users, throttle, devices);
    clientRoutes(app, runtime, provider);
    tokenEndpointRoutes(app, runtime, provider, createTokenVerifier({
      issuers: [{ issuer: config.authIssuer, jwksUrl: `${config.authUrl}/auth/jwks`, audience: platformAudiences, ownIssuer: true }],
      revocations: runtime.revocations,
      now: () => runtime.clock.now(),
    }), clientAuth, isServiceClient);
    interactionRoutes(app, {
      provider,
      users,
      throttle,
      devices,
      logger: runtime.logger,
      csrfKey: config.cookieKeys[0]!,
      isFirstParty,
      publicOrigin: new URL(config.authIssuer).origin,
    });

  },

  publishes: [TokenRevoked, UserNewLogin],

  // user.password_changed, user.disabled, user.deleted, user.updated (a role change) end a user's
  // access (revocation/revoke-user-access.ts).
  consumes: (ctx) => userAccessConsumers(ctx.runtime),

  jobs: [
    { name: 'signing key refresh', everyMs: (ctx) => ctx.config.keyRefreshSec * 1000, run: (ctx) => ctx.provider.refreshKeys() },
    { name: 'expired model clean-up', everyMs: 10 * 60_000, run: (ctx) => deleteExpiredModels(ctx.runtime.database.db) },
    { name: 'login throttle clean-up', everyMs: 10 * 60_000, run: (ctx) => ctx.throttle.deleteExpired() },
  ],
});
