// Access tokens issued, by grant type, counted from oidc-provider's documented model events
// (its docs/events.md: `access_token.issued` for a JWT, `access_token.saved` for an opaque one,
// the same for `client_credentials`). The login API's tokens (login/mint-user-token.ts) and auth's
// own service token are saved through the same models, so they are counted with the rest.
import type Provider from 'oidc-provider';
import { Counter, type Registry } from 'prom-client';

/** A token's `gty` as the label: a refreshed token keeps its chain's ("authorization_code refresh_token"). */
const grantTypes: Readonly<Record<string, string>> = {
  authorization_code: 'authorization_code',
  refresh_token: 'refresh_token',
  // POST /auth/login: a username and password checked by us, the token minted in process.
  login: 'password_login',
};

export class IssuedTokenMetrics {
  readonly #issued: Counter<'grant_type'>;

  constructor(registry: Registry) {
    this.#issued = new Counter({
      name: 'auth_tokens_issued_total',
      help: 'Access tokens issued, by grant type (authorization_code, refresh_token, client_credentials, password_login for POST /auth/login, other).',
      labelNames: ['grant_type'] as const,
      registers: [registry],
    });
  }

  /** Counts what `provider` issues; every provider built (one per signing key set) is observed. */
  observe(provider: Provider): void {
    const user = (token: { gty: string }) => this.#issued.inc({ grant_type: grantTypes[token.gty.split(' ').at(-1)!] ?? 'other' });
    const service = () => this.#issued.inc({ grant_type: 'client_credentials' });
    provider.on('access_token.issued', user);
    provider.on('access_token.saved', user);
    provider.on('client_credentials.issued', service);
    provider.on('client_credentials.saved', service);
  }
}
