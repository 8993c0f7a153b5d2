// Answers password reset requests off the request path. POST /users/password-reset only records
// the address (one insert, the same for every address); this job, woken after the response and
// every few seconds by the kit (service.ts's `jobs`: rows another replica recorded, or left by a
// crash), looks the account up,
// issues the link and enqueues its email. Whether an account has the address changes neither the
// answer nor the time it takes (issue 12 §2, docs/adr/0010-account-abuse.md).
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { UserPasswordResetRequested } from '../events.ts';
import { loginKey } from '@paymesh/platform/login-key';
import type { Logger } from '@paymesh/platform/logger';
import { issueToken, tokensIssuedSince } from '../tokens/user-tokens.ts';
import { SingleFlight } from '@paymesh/platform/single-flight';

export const resetTtlSec = 15 * 60;
const resetsPerHour = 3;
/** Rows handled per wake-up: a flood of requests is worked off in bounded slices. */
const batch = 50;

/** What the request does: one row, whatever the address. */
export async function recordResetRequest(db: Db, email: string): Promise<void> {
  await db.execute(sql`insert into password_reset_requests (email) values (${email})`);
}

export class ResetRequestJob {
  readonly #db: Db;
  readonly #publicUrl: string;
  readonly #logger: Logger;
  readonly #flight = new SingleFlight(() => this.#round(), () => this.#stopped);
  #stopped = false;

  constructor(options: { db: Db; publicUrl: string; logger: Logger }) {
    this.#db = options.db;
    this.#publicUrl = options.publicUrl;
    this.#logger = options.logger;
  }

  /** Works off the waiting requests now (once more after the current round, if one is running). */
  kick(): void {
    this.#flight.run();
  }

  /** A round now (or after the one under way), awaited: the kit's periodic pass (service.ts's jobs). */
  async pass(): Promise<void> {
    this.kick();
    await this.#flight.current;
  }

  /** Works off every waiting request (tests' settle()): false when none was waiting. */
  async drain(): Promise<boolean> {
    let worked = false;
    for (;;) {
      const [waiting] = await queryRows<{ n: number }>(this.#db, sql`select count(*)::int as n from password_reset_requests`);
      if (Number(waiting!.n) === 0) return worked;
      worked = true;
      await this.pass();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#flight.current;
  }

  async #round(): Promise<void> {
    try {
      // Each link's email is published as its transaction commits (the kit's db.transaction kicks the relay).
      for (let i = 0; i < batch && !this.#stopped; i++) {
        if ((await this.#handleOne()) === undefined) break;
      }
    } catch (error) {
      // The row stays and is tried again on the next round.
      this.#logger.error({ err: error }, 'password reset job failed');
    }
  }

  /** One request, in one transaction with its removal: undefined when none waits, else whether an email was enqueued. */
  #handleOne(): Promise<boolean | undefined> {
    return this.#db.transaction(async (tx) => {
      // Skip locked: replicas share the queue, each row is handled once.
      const [request] = await queryRows<{ id: string; email: string }>(tx, sql`
        select id, email from password_reset_requests order by id limit 1 for update skip locked`);
      if (request === undefined) return undefined;
      await tx.execute(sql`delete from password_reset_requests where id = ${request.id}`);
      const [user] = await queryRows<{ id: string; email: string }>(tx, sql`
        select id, email from users where email_key = ${loginKey(request.email)} and status = 'active' for update`);
      // Unknown, disabled, or asked too often: nothing sent (the requester got the same answer).
      if (user === undefined || (await tokensIssuedSince(tx, user.id, 'password_reset', 3600)) >= resetsPerHour) return false;
      // Bound to the account's address now: used after the address changed, it resets nothing.
      const { token, expiresAt } = await issueToken(tx, user.id, 'password_reset', resetTtlSec, user.email);
      await enqueue(tx, UserPasswordResetRequested, {
        user_id: Number(user.id),
        email: user.email,
        action_url: `${this.#publicUrl}/users/password-reset/confirm?token=${token}`,
        expires_at: expiresAt.toISOString(),
      });
      return true;
    });
  }
}
