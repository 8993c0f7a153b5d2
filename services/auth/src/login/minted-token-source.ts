// auth's own service token, minted in process for its calls to users (the other services fetch
// theirs from the token endpoint with client_credentials).
import type { ResourceServer } from 'oidc-provider';
import type { TokenSource } from '@paymesh/platform/service-client';
import { authServiceClientId, type ProviderRef } from '../oidc/provider-ref.ts';
import { serviceClientScopes } from '../oidc/scopes.ts';

export class MintedTokenSource implements TokenSource {
  readonly #provider: ProviderRef;
  readonly #resourceServer: ResourceServer;
  #cached: { token: string; expiresAtMs: number } | undefined;

  constructor(provider: ProviderRef, resourceServer: ResourceServer) {
    this.#provider = provider;
    this.#resourceServer = resourceServer;
  }

  async getToken(): Promise<string> {
    if (this.#cached !== undefined && this.#cached.expiresAtMs - 30_000 > Date.now()) return this.#cached.token;
    const client = await this.#provider.current.Client.find(authServiceClientId);
    if (client === undefined) throw new Error('auth-service client missing from the provider configuration');
    const token = new this.#provider.current.ClientCredentials({ client, scope: serviceClientScopes.get(authServiceClientId) });
    token.resourceServer = new this.#provider.current.ResourceServer(this.#resourceServer.audience!, this.#resourceServer);
    const value = await token.save();
    this.#cached = { token: value, expiresAtMs: Date.now() + (token.expiration ?? 60) * 1000 };
    return value;
  }

  invalidate(): void {
    this.#cached = undefined;
  }
}
