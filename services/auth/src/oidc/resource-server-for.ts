// Which resource servers (RFC 8707) a client may get tokens for, and with which scopes: the policy
// behind oidc-provider's getResourceServerInfo, also used to check a refresh's target before its
// refresh token rotates (check-refresh-target.ts).
import { errors, type Client, type KoaContextWithOIDC, type ResourceServer } from 'oidc-provider';
import { adminScopes, authAudience, platformAudience, resourceScopes, serviceOnlyScopes } from './scopes.ts';

export interface ResourcePolicy {
  /** The platform's own apps: the platform-wide audience, auth's API and admin scopes are theirs alone. */
  readonly isFirstParty: (clientId: string, metadata: Record<string, unknown>) => boolean;
  /** The platform's own services (SERVICE_CLIENTS and auth itself): the only holders of their service scopes. */
  readonly isServiceClient: (clientId: string) => boolean;
  readonly accessTokenTtlSec: number;
}

/** What a registered client may get per resource (`resource_scopes` of the client API), when it registered any. */
export function registeredResourceScopes(metadata: Record<string, unknown>): Record<string, string> | undefined {
  const value = metadata.paymesh_resource_scopes;
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, string>) : undefined;
}

export function resourceServerFor(policy: ResourcePolicy) {
  return (indicator: string, client: Client): ResourceServer => {
    const serverScopes = resourceScopes.get(indicator);
    if (serverScopes === undefined) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
    const metadata = client.metadata() as Record<string, unknown>;
    const firstParty = policy.isFirstParty(client.clientId, metadata);
    if ((indicator === platformAudience || indicator === authAudience) && !firstParty) {
      throw new errors.InvalidTarget(`${indicator} is for first-party apps only`);
    }
    // A client registered with its resources gets those and only those, each with its own scopes.
    const registered = registeredResourceScopes(metadata);
    let allowed: readonly string[] = serverScopes;
    if (registered !== undefined) {
      // Own properties only: stored metadata is a plain object, `constructor` is not a resource of it.
      const own = Object.hasOwn(registered, indicator) ? registered[indicator] : undefined;
      if (own === undefined) throw new errors.InvalidTarget(`${indicator} is not a resource of this client`);
      const ownSet = new Set(own.split(' '));
      allowed = serverScopes.filter((s) => ownSet.has(s));
    }
    // Checked here as well as at registration, so that no client metadata (OAUTH_CLIENTS included)
    // can hand a third party an admin's or a service's powers.
    allowed = allowed.filter((s) => (firstParty || !adminScopes.has(s)) && (policy.isServiceClient(client.clientId) || !serviceOnlyScopes.has(s)));
    return {
      scope: allowed.join(' '),
      audience: indicator,
      accessTokenFormat: 'jwt',
      accessTokenTTL: policy.accessTokenTtlSec,
      jwt: { sign: { alg: 'ES256' } },
    };
  };
}

/**
 * The resource a request without one is for: the client's only registered resource, when it
 * registered exactly one. Otherwise a sign-in gets an identity and no API scope, and a
 * client_credentials request is refused: a token without an audience is good for nothing here.
 */
export function defaultResourceOf(ctx: KoaContextWithOIDC, client: Client): string | undefined {
  const registered = registeredResourceScopes(client.metadata() as Record<string, unknown>);
  const indicators = registered === undefined ? [] : Object.keys(registered);
  if (indicators.length === 1) return indicators[0];
  if ((ctx.oidc.params as { grant_type?: unknown } | undefined)?.grant_type === 'client_credentials') {
    throw new errors.InvalidTarget('name the resource (audience) the token is for with the resource parameter');
  }
  return undefined;
}
