// The limits on what anyone, or any logged-in user, can make this service do (docs/adr/0010-account-abuse.md):
// registrations per client address and per mailbox, current-password checks per account and per
// client address, all counted before any argon2 work (the kit's rate limit, shared by every
// replica), and a gate that bounds the argon2 and strength-estimate work running at once on this
// replica so that logins keep their speed.
import type { Db } from '@paymesh/platform/db/open-database';
import { RateLimit, takeAll } from '@paymesh/platform/rate-limit/rate-limit';
import { mailboxKey } from '../tokens/mailbox-key.ts';
import { usersErrors } from '../errors.ts';
import { WorkGate } from './work-gate.ts';

export interface AccountThrottleConfig {
  readonly registrationsPerClientPerHour: number;
  readonly registrationsPerMailboxPerHour: number;
  readonly passwordChecksPerUserPerHour: number;
  readonly passwordChecksPerClientPerHour: number;
  readonly hashingConcurrency: number;
  readonly hashingQueue: number;
}

const hourSec = 3600;

export class AccountThrottles {
  readonly #registrationsByClient: RateLimit;
  readonly #registrationsByMailbox: RateLimit;
  readonly #checksByUser: RateLimit;
  readonly #checksByClient: RateLimit;
  readonly #gate: WorkGate;

  constructor(db: Db, config: AccountThrottleConfig) {
    this.#registrationsByClient = new RateLimit(db, { name: 'registrations-by-client', limit: config.registrationsPerClientPerHour, windowSec: hourSec });
    this.#registrationsByMailbox = new RateLimit(db, { name: 'registrations-by-mailbox', limit: config.registrationsPerMailboxPerHour, windowSec: hourSec });
    this.#checksByUser = new RateLimit(db, { name: 'password-checks-by-user', limit: config.passwordChecksPerUserPerHour, windowSec: hourSec });
    this.#checksByClient = new RateLimit(db, { name: 'password-checks-by-client', limit: config.passwordChecksPerClientPerHour, windowSec: hourSec });
    this.#gate = new WorkGate(config.hashingConcurrency, config.hashingQueue);
  }

  /** A registration attempt (counted whether it then succeeds or not); 429 beyond either limit. */
  async registration(clientAddress: string, email: string): Promise<void> {
    // Counted only when both allow it: a client over its limit must not use up the allowance of
    // the mailbox it names (someone else's, perhaps), nor the other way round.
    const wait = await takeAll([{ limit: this.#registrationsByMailbox, key: mailboxKey(email) }, { limit: this.#registrationsByClient, key: clientAddress }]);
    if (wait > 0) throw usersErrors.tooManyRegistrations(wait);
  }

  /** A request that will check the current password of `userId`; 429 beyond either limit. */
  async passwordCheck(userId: string, clientAddress: string): Promise<void> {
    const wait = await takeAll([{ limit: this.#checksByUser, key: userId }, { limit: this.#checksByClient, key: clientAddress }]);
    if (wait > 0) throw usersErrors.tooManyPasswordChecks(wait);
  }

  /** Runs argon2 or strength-estimate work within the gate; 503 with Retry-After when its queue is full. */
  async heavy<T>(work: () => Promise<T>): Promise<T> {
    const done = await this.#gate.run(work);
    if (done === undefined) throw usersErrors.busy();
    return done.value;
  }
}
