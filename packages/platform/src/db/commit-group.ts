// Group commit: units of work (an event's effect, a payment's writes) that arrive while a
// transaction is committing wait and are then applied together in one transaction of their own:
// one commit (one WAL flush) for the group instead of one per unit, and rows every unit touches
// (the platform's ledger accounts) locked once per group instead of by each unit in turn. Units are
// applied in the order they were handed in, one at a time, with no savepoint between them (a
// savepoint and its release would cost two round trips per unit, as many as the transaction they
// save). A unit that fails takes only itself down: the group is rolled back (with what its units
// queued by afterCommit) and each of its units is applied again alone, in its own transaction, so
// the failing one fails by itself, its caller gets the error, and its neighbours commit. The same
// when the group's transaction fails as a whole (its commit). Units must therefore be safe to apply
// twice, the first time rolled back: their effects are the transaction's, or queued by afterCommit.
// Used by the event consumers (consume-events.ts), the notifications delivery worker and payments'
// POST /payments (ADR 30).
import type { Db } from './open-database.ts';
import { boundToCurrentTrace, detachedFromTrace } from '../tracing/trace-context.ts';

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

  /** Alone, the transaction is the unit's own (in its trace). */
  const commitAlone = (item: Queued): Promise<void> =>
    item.inOwnTrace(() => db.transaction((tx) => item.work(tx))).then(item.resolve, item.reject);

  const commit = async (group: readonly Queued[]): Promise<void> => {
    if (group.length === 1) return commitAlone(group[0]!);
    const values: unknown[] = [];
    try {
      // The group's transaction belongs to no one unit's trace; each unit's own work runs in its own.
      await detachedFromTrace(() => db.transaction(async (tx) => {
        for (const item of group) values.push(await item.inOwnTrace(() => item.work(tx)));
      }));
    } catch {
      // A unit failed (or the commit, a deferred constraint, a serialization failure): nothing of
      // the group happened. Each unit alone: one that can never commit fails by itself instead of
      // taking its neighbours with it (every time they are delivered again, for events).
      for (const item of group) await commitAlone(item);
      return;
    }
    group.forEach((item, i) => item.resolve(values[i]));
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
