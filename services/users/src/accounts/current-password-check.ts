// The current password a signed-in user must give to change their password or address. A stolen
// token must not turn into a password-guessing oracle: 5 wrong tries per user in 15 minutes, over
// every replica (the kit's rate limit), then every try is refused until the window passes.
import type { Db } from '@paymesh/platform/db/open-database';
import { AppError } from '@paymesh/platform/errors';
import { RateLimit } from '@paymesh/platform/rate-limit/rate-limit';
import { verifyPassword } from '../passwords/password-hash.ts';
import { usersErrors } from '../errors.ts';

export class CurrentPasswordCheck {
  readonly #wrongTries: RateLimit;

  constructor(db: Db) {
    this.#wrongTries = new RateLimit(db, { name: 'wrong-current-passwords', limit: 5, windowSec: 15 * 60 });
  }

  /**
   * Runs `work` (a use case calling `check`) unless the user is blocked (429 too_many_checks with
   * the window's remaining seconds). The try is counted before the work, so parallel requests
   * cannot all slip past a check made before any of them failed; it is given back unless the work
   * reported a wrong current password. Both happen outside the work's transaction: PGlite runs one
   * statement at a time and would wait forever for a count sent while the transaction holds it.
   */
  async guard<T>(userId: string, work: () => Promise<T>): Promise<T> {
    const waitSec = await this.#wrongTries.take(userId);
    if (waitSec > 0) throw usersErrors.tooManyChecks(waitSec);
    let wrong = false;
    try {
      return await work();
    } catch (error) {
      wrong = error instanceof AppError && error.code === 'current_password_invalid';
      throw error;
    } finally {
      if (!wrong) await this.#wrongTries.giveBack(userId);
    }
  }

  /** Inside `guard`: throws current_password_invalid when the password does not match. */
  async check(passwordHash: string | null, password: string): Promise<void> {
    if (!(await verifyPassword(passwordHash, password))) throw usersErrors.currentPasswordWrong();
  }
}
