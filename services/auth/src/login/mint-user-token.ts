// Issues a user's access token for the first-party login (POST /auth/login) through the
// provider's own models, so that it is the same RFC 9068 token, with a grant behind it, that the
// authorization code flow issues.
import type Provider from 'oidc-provider';
import type { ResourceServer } from 'oidc-provider';
import { loginClientId } from '../oidc/provider-ref.ts';
import { userScopes } from '../oidc/scopes.ts';

/** Claims for tokens being minted right now, read by the provider's extraTokenClaims hook. */
export const pendingClaims = new WeakMap<object, Record<string, unknown>>();

export interface MintedToken {
  readonly token: string;
  readonly expiresInSec: number;
  readonly scope: string;
}

export async function mintUserToken(provider: Provider, resourceServer: ResourceServer, user: { id: string; role: 'user' | 'admin' }): Promise<MintedToken> {
  const client = await provider.Client.find(loginClientId);
  if (client === undefined) throw new Error('login client missing from the provider configuration');
  const scope = userScopes(user.role).join(' ');
  const grant = new provider.Grant({ accountId: user.id, clientId: loginClientId });
  grant.addResourceScope(resourceServer.audience!, scope);
  const grantId = await grant.save();
  const token = new provider.AccessToken({ accountId: user.id, client, grantId, gty: 'login', scope });
  token.resourceServer = new provider.ResourceServer(resourceServer.audience!, resourceServer);
  pendingClaims.set(token, { role: user.role });
  const value = await token.save();
  return { token: value, expiresInSec: token.expiration ?? 0, scope };
}
