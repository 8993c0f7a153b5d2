// Who an email goes to, asked of the users service when it is sent (notifications keeps no copy,
// so an address change or an erasure applies to every message still queued). The look-ups that
// arrive while one request is under way go together in the next (POST /users/internal/lookup, up
// to 100 ids): a burst of emails costs users one request per batch instead of one per email, and
// a lone email waits for no timer. Nothing is kept once a batch is answered.
import type { ServiceClient } from '@paymesh/platform/service-client';

/** What an email needs to know of its recipient. */
export interface Recipient {
  readonly id: number;
  readonly email: string | null;
  readonly pending_email: string | null;
  readonly status: 'active' | 'disabled' | 'deleted';
  readonly email_verified: boolean;
}

/** The ids the users service answers for in one look-up (its `maxLookupIds`). */
const batchSize = 100;

interface Waiter {
  readonly resolve: (recipient: Recipient | undefined) => void;
  readonly reject: (error: Error) => void;
}

export class RecipientLookup {
  readonly #users: ServiceClient;
  /** Waiting for the next request, by canonical user id. */
  readonly #waiting = new Map<string, Waiter[]>();
  #running = false;

  constructor(users: ServiceClient) {
    this.#users = users;
  }

  /** The user's account; undefined when there is none (or it was deleted). Throws when users cannot answer. */
  find(userId: string): Promise<Recipient | undefined> {
    return new Promise((resolve, reject) => {
      const id = userId.replace(/^0+(?=\d)/, '');
      const waiters = this.#waiting.get(id);
      if (waiters === undefined) this.#waiting.set(id, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      if (!this.#running) void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiting.size > 0) {
        const batch = [...this.#waiting].slice(0, batchSize);
        for (const [id] of batch) this.#waiting.delete(id);
        await this.#answer(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #answer(batch: readonly (readonly [string, Waiter[]])[]): Promise<void> {
    const fail = (error: Error) => batch.forEach(([, waiters]) => waiters.forEach((w) => w.reject(error)));
    let answer;
    try {
      // A look-up only reads: the client may repeat it like a GET.
      answer = await this.#users.request<{ data: Recipient[] }>({ method: 'POST', path: '/users/internal/lookup', body: { ids: batch.map(([id]) => id) }, safe: true });
    } catch (error) {
      fail(new Error(`users service unreachable: ${(error as Error).message}`));
      return;
    }
    if (answer.status !== 200) {
      fail(new Error(`users service answered ${answer.status}`));
      return;
    }
    const found = new Map(answer.body.data.map((user) => [String(user.id), user]));
    for (const [id, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.get(id));
  }
}
