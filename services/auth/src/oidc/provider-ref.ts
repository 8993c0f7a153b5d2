// What the rest of auth holds of the provider: a reference that survives a key rotation, and the
// ids of the two clients auth itself registers.
import type Provider from 'oidc-provider';

/** The provider in use; replaced when the signing keys change (rotation), so hold this, not the instance. */
export interface ProviderRef {
  readonly current: Provider;
}

export const loginClientId = 'paymesh-login';
export const authServiceClientId = 'auth-service';
