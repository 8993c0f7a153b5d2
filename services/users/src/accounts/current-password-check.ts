// The current password a signed-in user must give to change their password or address. A stolen
// token must not turn into a password-guessing oracle: 5 wrong tries per user in 15 minutes, on
// this replica, then every try is refused until the window passes.
import { verifyPassword } from '../passwords/password-hash.ts';
import { usersErrors } from '../errors.ts';

export class CurrentPasswordCheck {
  readonly #windowMs = 15 * 60_000;
  readonly #max = 5;
  readonly #failures = new Map<string, number[]>();

  /** Throws too_many_checks when the user is blocked, current_password_wrong (and counts it) when it does not match. */
  async check(userId: string, passwordHash: string | null, password: string): Promise<void> {
    if (this.#blocked(userId)) throw usersErrors.tooManyChecks();
    if (!(await verifyPassword(passwordHash, password))) {
      this.#failures.set(userId, [...(this.#failures.get(userId) ?? []), Date.now()]);
      throw usersErrors.currentPasswordWrong();
    }
  }

  #blocked(userId: string): boolean {
    const recent = (this.#failures.get(userId) ?? []).filter((t) => t > Date.now() - this.#windowMs);
    if (recent.length === 0) this.#failures.delete(userId);
    else this.#failures.set(userId, recent);
    return recent.length >= this.#max;
  }
}
