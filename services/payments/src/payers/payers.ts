// Who may pay. The users service is the authority; payments keeps what it has been told, from its
// events (user.registered, user.disabled, user.enabled, user.deleted) and from looking a user up
// the first time one pays before their event has arrived. An event always wins over a looked-up
// answer, and a deleted user stays deleted, so events arriving late or twice change nothing wrong.
import { consume, type EventConsumer } from '@paymesh/platform/events/consume';
import { UserDeleted, UserDisabled, UserEnabled, UserRegistered } from '@paymesh/users/events';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { platformErrors } from '@paymesh/platform/errors';
import type { Runtime } from '@paymesh/platform/runtime';
import type { ServiceClient } from '@paymesh/platform/service-client';
import { paymentsErrors } from '../errors.ts';

type PayerStatus = 'active' | 'disabled' | 'deleted';

const userEvents = [
  [UserRegistered, 'active'],
  [UserEnabled, 'active'],
  [UserDisabled, 'disabled'],
  [UserDeleted, 'deleted'],
] as const;

export class Payers {
  readonly #db: Db;
  readonly #users: ServiceClient;
  readonly #runtime: Runtime;

  constructor(runtime: Runtime, users: ServiceClient) {
    this.#runtime = runtime;
    this.#db = runtime.database.db;
    this.#users = users;
  }

  /** Throws unless the user exists and may pay now. */
  async assertMayPay(userId: string): Promise<void> {
    const status = await this.#statusOf(userId);
    if (status === 'disabled') throw paymentsErrors.payerDisabled();
    if (status !== 'active') throw paymentsErrors.userNotFound();
  }

  /** Throws unless payments knows the user or users does: a deleted user still has their wallet's history. */
  async assertKnown(userId: string): Promise<void> {
    if ((await this.#statusOf(userId)) === 'unknown') throw paymentsErrors.userNotFound();
  }

  /** What payments was told, or else what users answers now. */
  async #statusOf(userId: string): Promise<PayerStatus | 'unknown'> {
    const [known] = await queryRows<{ status: PayerStatus }>(this.#db, sql`select status from payers where user_id = ${userId}`);
    return known?.status ?? this.#lookUp(userId);
  }

  async #lookUp(userId: string): Promise<PayerStatus | 'unknown'> {
    const answer = await this.#users.request<{ status: PayerStatus }>({ method: 'GET', path: `/users/${userId}` });
    if (answer.status === 404) return 'unknown';
    if (answer.status !== 200) {
      this.#runtime.logger.error({ status: answer.status }, 'payer check failed');
      throw platformErrors.serviceUnavailable();
    }
    // -infinity: any event about this user, earlier or later, overrides the looked-up answer.
    await this.#db.execute(sql`insert into payers (user_id, status, as_of) values (${userId}, ${answer.body.status}, '-infinity') on conflict (user_id) do nothing`);
    return answer.body.status;
  }

  /** What keeps the table current: the users service's events. */
  consumers(): EventConsumer[] {
    return userEvents.map(([contract, status]) => consume(contract, async (tx, event) => {
      await tx.execute(sql`insert into payers (user_id, status, as_of) values (${String(event.data.user_id)}, ${status}, ${event.occurredAt})
        on conflict (user_id) do update set status = excluded.status, as_of = excluded.as_of
        where payers.status <> 'deleted' and payers.as_of <= excluded.as_of`);
    }));
  }

}
