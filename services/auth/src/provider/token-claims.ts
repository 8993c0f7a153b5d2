// What auth adds to the tokens it issues (oidc-provider's extraTokenClaims): `paymesh_service` on
// the platform's own service clients' tokens (they may act for any user), `gid` so every service
// can refuse a token once its grant ends, the role in first-party tokens only (a third-party app
// acting for an admin acts as an ordinary user), and `iat_ms`.
import type Provider from 'oidc-provider';
import type { ServiceClient } from '@paymesh/platform/service-client';
import { pendingClaims } from '../login/mint-user-token.ts';
import { lookupAccount } from '../oidc/find-account.ts';

export interface TokenClaimsOptions {
  /** The provider in use (its clients' metadata say which are first-party). */
  readonly provider: () => Provider;
  readonly serviceClientIds: ReadonlySet<string>;
  readonly isFirstParty: (clientId: string, metadata: Record<string, unknown>) => boolean;
  /** The users service, looked up when a first-party token needs the account's role. */
  readonly users: () => ServiceClient;
  readonly now?: () => number;
}

export function tokenClaims(options: TokenClaimsOptions): (accountId: string | undefined, token: unknown) => Promise<Record<string, unknown>> {
  const now = options.now ?? Date.now;
  const claimsFor = async (accountId: string | undefined, token: unknown): Promise<Record<string, unknown> | undefined> => {
    const { grantId, clientId } = token as { grantId?: string; clientId?: string };
    // A client_credentials token: services trust it to act for any user only when it is one
    // of the platform's own service clients.
    if (accountId === undefined) return options.serviceClientIds.has(clientId ?? '') ? { paymesh_service: true } : undefined;
    const client = clientId === undefined ? undefined : await options.provider().Client.find(clientId);
    const firstParty = client !== undefined && options.isFirstParty(client.clientId, client.metadata());
    const pending = pendingClaims.get(token as object);
    if (pending !== undefined) return { ...pending, gid: grantId };
    if (!firstParty) return { gid: grantId };
    const account = await lookupAccount(options.users(), accountId);
    return account === undefined ? { gid: grantId } : { role: account.role, gid: grantId };
  };
  // `iat_ms`: the minting moment to the millisecond, so that a subject's cut-off (a password
  // change) refuses tokens minted earlier in the same second and keeps those minted after it.
  return async (accountId, token) => ({ ...(await claimsFor(accountId, token)), iat_ms: now() });
}
