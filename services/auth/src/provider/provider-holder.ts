// The provider in use, rebuilt on new signing keys: a built provider never changes its keys, so a
// rotation (by schedule, `npm run keys:rotate`, or another replica) swaps in a provider built on
// the new set. Requests under /auth that are the provider's go to whichever is current.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import type Provider from 'oidc-provider';
import type { Db } from '@paymesh/platform/db/open-database';
import type { Logger } from '@paymesh/platform/logger';
import { loadSigningKeys, type KeyPolicy } from '../keys/load-signing-keys.ts';
import type { ProviderRef } from '../oidc/provider-ref.ts';
import type { createProvider } from './create-provider.ts';

type Built = ReturnType<typeof createProvider>;

export class ProviderHolder implements ProviderRef {
  readonly #db: Db;
  readonly #policy: KeyPolicy;
  readonly #build: (signingKeys: JWK[]) => Built;
  readonly #logger: Logger;
  #current: Built;
  #callback: (req: IncomingMessage, res: ServerResponse) => void;
  #keyIds: string;

  private constructor(db: Db, policy: KeyPolicy, build: (signingKeys: JWK[]) => Built, logger: Logger, keys: JWK[]) {
    this.#db = db;
    this.#policy = policy;
    this.#build = build;
    this.#logger = logger;
    this.#current = build(keys);
    this.#callback = this.#current.provider.callback();
    this.#keyIds = keyIdsOf(keys);
  }

  /** A holder with a provider built on the current signing keys (made when there are none yet). */
  static async open(db: Db, policy: KeyPolicy, build: (signingKeys: JWK[]) => Built, logger: Logger): Promise<ProviderHolder> {
    return new ProviderHolder(db, policy, build, logger, await loadSigningKeys(db, policy));
  }

  get current(): Provider {
    return this.#current.provider;
  }

  /** The resource servers (audiences): the same for every build, they do not depend on the keys. */
  get resourceServers(): Built['resourceServers'] {
    return this.#current.resourceServers;
  }

  /** Serves a request with the current provider. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#callback(req, res);
  }

  /** Rebuilds the provider when the signing keys have changed since it was built. */
  async refreshKeys(): Promise<void> {
    const keys = await loadSigningKeys(this.#db, this.#policy);
    if (keyIdsOf(keys) === this.#keyIds) return;
    const next = this.#build(keys);
    this.#current = next;
    this.#callback = next.provider.callback();
    this.#keyIds = keyIdsOf(keys);
    this.#logger.info({ signingKid: keys[0]?.kid, published: keys.length }, 'signing keys changed; provider reloaded');
  }
}

function keyIdsOf(keys: readonly JWK[]): string {
  return keys.map((k) => k.kid).join(',');
}
