// Who an email goes to, asked of the users service when it is sent (notifications keeps no copy,
// so an address change or an erasure applies to every message still queued). The look-ups that
// arrive while the requests under way are busy go together in the next one (POST
// /users/internal/lookup, up to 100 ids, answered position by position): a burst of emails costs
// users a request per batch instead of one per email, and a lone email waits for no timer.
// Nothing is kept once a batch is answered.
import { isNumericId } from '@paymesh/platform/ids';
import type { ServiceClient } from '@paymesh/platform/service-client';
import { detachedFromTrace } from '@paymesh/platform/tracing/trace-context';

/** What an email needs to know of its recipient. */
export interface Recipient {
  readonly email: string | null;
  readonly pending_email: string | null;
  readonly status: 'active' | 'disabled' | 'deleted';
  readonly email_verified: boolean;
}

/** The ids the users service answers for in one look-up (its `maxLookupIds`). */
const batchSize = 100;
/**
 * Requests under way at once: enough that a worker sending 256 emails at a time (the most
 * NOTIFICATIONS_DELIVERY_CONCURRENCY allows) never queues a batch behind another, so a look-up
 * takes no longer than one request (the client's own timeouts bound it).
 */
const maxInFlight = 4;

interface Waiter {
  readonly resolve: (recipient: Recipient | undefined) => void;
  readonly reject: (error: Error) => void;
}

export class RecipientLookup {
  readonly #users: ServiceClient;
  /** Waiting for the next request, by user id. */
  readonly #waiting = new Map<string, Waiter[]>();
  #inFlight = 0;

  constructor(users: ServiceClient) {
    this.#users = users;
  }

  /** The user's account; undefined when there is none (or it was deleted). Throws when users cannot answer. */
  find(id: string): Promise<Recipient | undefined> {
    // A delivery's recipient as PostgreSQL prints a bigint; anything else (ids.ts) is no account's,
    // and users would refuse the whole batch for it.
    if (!isNumericId(id)) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting.get(id);
      if (waiters === undefined) this.#waiting.set(id, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
      this.#send();
    });
  }

  #send(): void {
    while (this.#waiting.size > 0 && this.#inFlight < maxInFlight) {
      const batch = [...this.#waiting].slice(0, batchSize);
      for (const [id] of batch) this.#waiting.delete(id);
      this.#inFlight++;
      // A batch serves many emails' traces: it belongs to none of them.
      void detachedFromTrace(() => this.#answer(batch)).finally(() => {
        this.#inFlight--;
        this.#send();
      });
    }
  }

  /** Settles every waiter of the batch, whatever happens. */
  async #answer(batch: readonly (readonly [string, Waiter[]])[]): Promise<void> {
    try {
      // A look-up only reads: the client may repeat it like a GET.
      const answer = await this.#users.request<{ data: (Recipient | null)[] }>({ method: 'POST', path: '/users/internal/lookup', body: { ids: batch.map(([id]) => id) }, safe: true })
        .catch((error: unknown) => Promise.reject(new Error(`users service unreachable: ${(error as Error).message}`)));
      if (answer.status !== 200) throw new Error(`users service answered ${answer.status}`);
      const { data } = answer.body;
      if (!Array.isArray(data) || data.length !== batch.length) throw new Error(`users service answered ${Array.isArray(data) ? data.length : 'no'} accounts for ${batch.length} ids`);
      // Position by position: the answer for the i-th id asked is the i-th, or null.
      batch.forEach(([, waiters], i) => waiters.forEach((w) => w.resolve(data[i] ?? undefined)));
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const [, waiters] of batch) for (const w of waiters) w.reject(failure);
    }
  }
}
