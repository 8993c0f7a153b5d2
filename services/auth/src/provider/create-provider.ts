// The OAuth 2.1 / OpenID Connect provider (oidc-provider). Access tokens are RFC 9068 JWTs for
// the platform's resource server, signed with the keys from the database.
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import Provider, { errors, type ClientMetadata, type ResourceServer } from 'oidc-provider';
import type { Db } from '@paymesh/platform/db/open-database';
import { apiScopes, resourceScopes, serviceClientScopes } from '../oidc/scopes.ts';
import { createAdapter } from '../oidc/create-adapter.ts';
import { checkRefreshTarget } from '../oidc/check-refresh-target.ts';
import { defaultResourceOf, resourceServerFor } from '../oidc/resource-server-for.ts';
import { clientSecretMatches } from '../clients/client-secret.ts';
import type { Account } from '../oidc/find-account.ts';
import { errorPage, logoutPage, signedOutPage } from '../interactions/render-page.ts';
import { providerPages } from '../interactions/provider-pages.ts';
import { providerRoutePaths } from '../oidc/provider-route-paths.ts';
import { authServiceClientId, loginClientId } from '../oidc/provider-ref.ts';
import { apiReferenceClient } from '../oidc/api-reference-client.ts';
import { webAppClient } from '../oidc/web-app-client.ts';

export interface ProviderOptions {
  readonly issuer: string;
  readonly db: Db;
  readonly signingKeys: JWK[];
  readonly serviceClients: { clientId: string; secret: string }[];
  readonly cookieKeys: string[];
  readonly accessTokenTtlSec: number;
  readonly authorizationCodeTtlSec: number;
  /** Lifetime of a refresh token chain: rotation never extends it. */
  readonly refreshTokenTtlSec: number;
  /** Registered OAuth clients beyond the platform's own (apps using the authorization code flow). */
  readonly extraClients: ClientMetadata[];
  /** Claims added to an access token (the user's role). */
  readonly extraTokenClaims: (accountId: string | undefined, token: unknown) => Promise<Record<string, unknown> | undefined>;
  /** Whether a client is one of the platform's own apps (no consent, platform-wide tokens). */
  readonly isFirstParty: (clientId: string, metadata: Record<string, unknown>) => boolean;
  /** The account behind a subject, for sessions and ID tokens. */
  readonly findAccount: (accountId: string) => Promise<Account | undefined>;
}


export function createProvider(options: ProviderOptions): { provider: Provider; resourceServers: ReadonlyMap<string, ResourceServer> } {
  const clients: ClientMetadata[] = options.serviceClients.map(({ clientId, secret }) => ({
    client_id: clientId,
    client_secret: secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: serviceClientScopes.get(clientId) ?? '',
  }));
  // auth's own client: its calls to users are minted in process; the secret is never used.
  clients.push({ client_id: authServiceClientId, client_secret: randomBytes(32).toString('base64url'), grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: serviceClientScopes.get(authServiceClientId)! });
  clients.push(...options.extraClients);
  // The first-party client behind the contract's POST /auth/login (see docs/adr/0003). Its tokens
  // are minted in process; it has no grant a browser could drive.
  clients.push({ client_id: loginClientId, token_endpoint_auth_method: 'none', grant_types: [], response_types: [], redirect_uris: [], scope: apiScopes.join(' ') });
  // The API reference site's client (the gateway's /docs): a first-party public client whose one
  // redirect URI is the site's own page on the public URL.
  clients.push(apiReferenceClient(options.issuer));
  // The web dashboard's client (the gateway's /, ADR 27): first-party and public, with refresh tokens.
  clients.push(webAppClient(options.issuer));

  const resourceServers = new Map([...resourceScopes].map(([indicator, scopes]): [string, ResourceServer] => [indicator, {
    scope: scopes.join(' '),
    audience: indicator,
    accessTokenFormat: 'jwt',
    accessTokenTTL: options.accessTokenTtlSec,
    jwt: { sign: { alg: 'ES256' } },
  }]));
  const serviceClientIds = new Set([...options.serviceClients.map((c) => c.clientId), authServiceClientId]);
  const serverFor = resourceServerFor({ isFirstParty: options.isFirstParty, isServiceClient: (clientId) => serviceClientIds.has(clientId), accessTokenTtlSec: options.accessTokenTtlSec });

  const provider = new Provider(options.issuer, {
    adapter: createAdapter(options.db),
    clients,
    // Our own revocation and introspection endpoints, announced like the provider's would be.
    discovery: {
      revocation_endpoint: `${options.issuer}/token/revocation`,
      introspection_endpoint: `${options.issuer}/token/introspection`,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    },
    // Our extensions to client metadata: whether the app is the platform's own (no consent), and
    // the resources it may have with their scopes (resource-server-for.ts).
    extraClientMetadata: {
      properties: ['paymesh_first_party', 'paymesh_resource_scopes'],
      validator: (_ctx, key, value) => {
        if (key !== 'paymesh_resource_scopes' || value === undefined) return;
        if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
          throw new errors.InvalidClientMetadata('paymesh_resource_scopes must map resource indicators to space-separated scopes');
        }
      },
    },
    // Secrets are compared by client-secret.ts (registered ones are stored hashed), so nothing may
    // use a secret as a key: no client_secret_jwt and no HMAC algorithms.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    clientDefaults: { id_token_signed_response_alg: 'ES256', grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic' },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = errorPage(`${out.error}: ${out.error_description ?? 'the request could not be completed'}`);
    },
    // OAuth 2.1: the authorization code flow only; no implicit or hybrid responses.
    responseTypes: ['code'],
    // redirect_uri always, at the authorization request (OIDC Core 3.1.2.1) and at the code's
    // exchange (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3): the provider would fill in a client's only URI.
    allowOmittingSingleRegisteredRedirectUri: false,
    scopes: ['openid', 'offline_access', ...apiScopes],
    jwks: { keys: options.signingKeys as never },
    cookies: { keys: options.cookieKeys },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Our own pages (no third-party fonts or scripts), like the login page.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = signedOutPage();
        },
      },
      // Served by our own routes (revocation/token-endpoint-routes.ts), which understand the JWT
      // access tokens oidc-provider does not store.
      introspection: { enabled: false },
      revocation: { enabled: false },
      // One resource per service: a client names the service its token is for (RFC 8707), and
      // the token's audience is that service alone (docs/adr/0013-oidc-interoperability.md).
      resourceIndicators: {
        enabled: true,
        // Several resources where one is needed: the client must name it (the provider's default).
        defaultResource: (ctx, client, oneOf) => oneOf ?? defaultResourceOf(ctx, client),
        getResourceServerInfo: (_ctx, indicator, client) => serverFor(indicator, client),
        // As oidc-provider documents it: a code or refresh token exchanged without `resource`
        // gives, when it carries `openid`, the opaque access token for the userinfo endpoint;
        // with `resource=…` it gives the JWT for that service. Without `openid` the grant's single
        // resource is used either way.
        useGrantedResource: () => false,
      },
    },
    ttl: {
      AccessToken: options.accessTokenTtlSec,
      ClientCredentials: options.accessTokenTtlSec,
      AuthorizationCode: options.authorizationCodeTtlSec,
      Grant: options.refreshTokenTtlSec,
      // A rotated refresh token keeps what was left of its chain's lifetime: the lifetime is absolute.
      RefreshToken: (ctx, token) => {
        const rotated = ctx?.oidc.entities.RotatedRefreshToken;
        return rotated === undefined ? options.refreshTokenTtlSec : rotated.remainingTTL;
      },
    },
    extraTokenClaims: (_ctx, token) => options.extraTokenClaims((token as { accountId?: string }).accountId, token),
    findAccount: async (ctx, sub) => {
      const account = await options.findAccount(sub);
      if (account === undefined) return undefined;
      // The role (what makes an admin) is for the platform's own apps alone, in ID tokens and at
      // userinfo as in access tokens: a third-party app learns nothing of it.
      const client = ctx.oidc.client;
      const firstParty = client !== undefined && options.isFirstParty(client.clientId, client.metadata() as Record<string, unknown>);
      return {
        accountId: account.id,
        // email_verified with the address (OIDC Core 5.4): an app that links accounts by email must
        // be able to tell an address nobody confirmed.
        claims: async () => ({
          sub: account.id, preferred_username: account.username,
          ...(account.email === null ? {} : { email: account.email, email_verified: account.emailVerified }),
          ...(firstParty ? { role: account.role } : {}),
        }),
      };
    },
    claims: { openid: ['sub'], profile: ['preferred_username', 'role'], email: ['email', 'email_verified'] },
    interactions: { url: (_ctx, interaction) => `/auth/interaction/${interaction.uid}` },
    // OAuth 2.1: PKCE (S256 only) for every authorization code, public or confidential client.
    pkce: { required: () => true },
    // Refresh tokens rotate on every use; presenting a used one revokes the whole grant. The hook
    // is also the last point before the rotation: a target the refresh cannot have is refused there.
    rotateRefreshToken: (ctx) => {
      checkRefreshTarget(ctx, serverFor);
      return true;
    },
    // Logging out ends every grant of the session, refresh tokens included (offline_access too).
    expiresWithSession: async () => true,
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    enabledJWA: { requestObjectSigningAlgValues: ['ES256', 'EdDSA'], clientAuthSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'] },
    routes: providerRoutePaths,
  });
  // Behind the gateway / ingress: trust X-Forwarded-Proto for the URLs it builds.
  provider.proxy = true;
  // Every page the provider renders gets our pages' headers (no framing, no caching, our CSP).
  provider.use(providerPages({ publicOrigin: options.issuer }));
  // The provider's hook for secrets it does not hold in clear (panva/node-oidc-provider#631).
  provider.Client.prototype.compareClientSecret = function compareClientSecret(this: { clientSecret?: string }, presented: string) {
    return clientSecretMatches(this.clientSecret, presented);
  };
  return { provider, resourceServers };
}
