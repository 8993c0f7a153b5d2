// The limits on what anyone, or any logged-in user, can make this service do (docs/adr/0010-account-abuse.md):
// registrations per client address and per mailbox, current-password checks per account and per
// client address, all counted before any argon2 work, and a gate that bounds the argon2 and
// strength-estimate work running at once so that logins keep their speed.
import { mailboxKey } from '../tokens/mailbox-key.ts';
import { usersErrors } from '../errors.ts';
import { SlidingWindowLimiter } from './sliding-window-limiter.ts';
import { WorkGate } from './work-gate.ts';

export interface AccountThrottleConfig {
  readonly registrationsPerClientPerHour: number;
  readonly registrationsPerMailboxPerHour: number;
  readonly passwordChecksPerUserPerHour: number;
  readonly passwordChecksPerClientPerHour: number;
  readonly hashingConcurrency: number;
  readonly hashingQueue: number;
}

const hourMs = 3_600_000;

export class AccountThrottles {
  readonly #registrationsByClient: SlidingWindowLimiter;
  readonly #registrationsByMailbox: SlidingWindowLimiter;
  readonly #checksByUser: SlidingWindowLimiter;
  readonly #checksByClient: SlidingWindowLimiter;
  readonly #gate: WorkGate;

  constructor(config: AccountThrottleConfig) {
    this.#registrationsByClient = new SlidingWindowLimiter(config.registrationsPerClientPerHour, hourMs);
    this.#registrationsByMailbox = new SlidingWindowLimiter(config.registrationsPerMailboxPerHour, hourMs);
    this.#checksByUser = new SlidingWindowLimiter(config.passwordChecksPerUserPerHour, hourMs);
    this.#checksByClient = new SlidingWindowLimiter(config.passwordChecksPerClientPerHour, hourMs);
    this.#gate = new WorkGate(config.hashingConcurrency, config.hashingQueue);
  }

  /** A registration attempt (counted whether it then succeeds or not); 429 beyond either limit. */
  registration(clientAddress: string, email: string): void {
    // Counted only when both allow it: a client over its limit must not use up the allowance of
    // the mailbox it names (someone else's, perhaps), nor the other way round.
    const mailbox = [mailboxKey(email)];
    const client = [clientAddress];
    const wait = Math.max(this.#registrationsByMailbox.wait(mailbox), this.#registrationsByClient.wait(client));
    if (wait > 0) throw usersErrors.tooManyRegistrations(wait);
    this.#registrationsByMailbox.record(mailbox);
    this.#registrationsByClient.record(client);
  }

  /** A request that will check the current password of `userId`; 429 beyond either limit. */
  passwordCheck(userId: string, clientAddress: string): void {
    const wait = Math.max(this.#checksByUser.wait([userId]), this.#checksByClient.wait([clientAddress]));
    if (wait > 0) throw usersErrors.tooManyPasswordChecks(wait);
    this.#checksByUser.record([userId]);
    this.#checksByClient.record([clientAddress]);
  }

  /** Runs argon2 or strength-estimate work within the gate; 503 with Retry-After when its queue is full. */
  async heavy<T>(work: () => Promise<T>): Promise<T> {
    const done = await this.#gate.run(work);
    if (done === undefined) throw usersErrors.busy();
    return done.value;
  }
}
