// Group commit for event consumers: the effects of events that arrive while a transaction is
// committing wait and are then applied together, each in its own savepoint, in one transaction of
// their own: one commit (one WAL flush) for the group instead of one per event. An event whose
// effect fails is rolled back to its savepoint alone (what it queued with afterCommit is dropped
// too) and its caller gets the error, so the transport delivers it again; its neighbours commit.
// A group whose transaction fails as a whole is applied again one event per transaction.
// Effects are applied in the order they were handed in, one at a time, as a lone consumer would.
import type { Db } from '../db/open-database.ts';
import { boundToCurrentTrace, detachedFromTrace } from '../tracing/trace-context.ts';
import { discardingAfterCommitsOnFailure } from './outbox-scope.ts';

export interface CommitGroup {
  /** Applies `work` in the next group's transaction; settles once that transaction has committed (or `work` failed). */
  run<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

interface Queued {
  readonly work: (tx: Db) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Runs a function in the trace that was active when the work was handed in. */
  readonly inOwnTrace: <T>(run: () => T) => T;
}

export function commitGroup(db: Db, options: { readonly maxSize: number }): CommitGroup {
  const queue: Queued[] = [];
  let running = false;

  /** Alone, the transaction is the event's own (in its trace): no savepoint needed. */
  const commitAlone = (item: Queued): Promise<void> =>
    item.inOwnTrace(() => db.transaction((tx) => item.work(tx))).then(item.resolve, item.reject);

  const commit = async (group: readonly Queued[]): Promise<void> => {
    if (group.length === 1) return commitAlone(group[0]!);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      // The group's transaction belongs to no one event's trace (each event's own work does).
      await detachedFromTrace(() => db.transaction(async (tx) => {
        for (const item of group) {
          try {
            outcomes.push({ ok: true, value: await discardingAfterCommitsOnFailure(() => tx.transaction((savepoint) => item.work(savepoint))) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      }));
    } catch {
      // The group's transaction failed as a whole (its commit, a deferred constraint, a
      // serialization failure): nothing of it happened. Each event is then applied alone, so that
      // one event that can never commit fails by itself instead of taking its neighbours with it
      // every time they are delivered again.
      for (const item of group) await commitAlone(item);
      return;
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  };

  const pump = async (): Promise<void> => {
    running = true;
    try {
      while (queue.length > 0) await commit(queue.splice(0, options.maxSize));
    } finally {
      // Set in the same turn as the last look at the queue: a later `run` starts a new pump.
      running = false;
    }
  };

  return {
    run<T>(work: (tx: Db) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject, inOwnTrace: boundToCurrentTrace(<T>(run: () => T) => run()) });
        // The pump serves every later caller too: it belongs to no one caller's trace.
        if (!running) void detachedFromTrace(pump);
      });
    },
  };
}
