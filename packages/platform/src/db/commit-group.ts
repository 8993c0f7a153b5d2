// Group commit: units of work (an event's effect, a payment's writes) that arrive while a
// transaction is committing wait and are then applied together, each in its own savepoint, in one
// transaction of their own: one commit (one WAL flush) for the group instead of one per unit, and
// rows every unit touches (the platform's ledger accounts) locked once per group instead of by each
// unit in turn. A unit that fails is rolled back to its savepoint alone (what it queued with
// afterCommit is dropped too) and its caller gets the error; its neighbours commit. A group whose
// transaction fails as a whole is applied again one unit per transaction. Units are applied in the
// order they were handed in, one at a time. Used by the event consumers (consume-events.ts) and by
// payments' POST /payments (ADR 30).
import type { Db } from './open-database.ts';
import { boundToCurrentTrace, detachedFromTrace } from '../tracing/trace-context.ts';
import { discardingAfterCommitsOnFailure } from '../events/outbox-scope.ts';

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

export interface CommitGroupOptions {
  readonly maxSize: number;
  /**
   * True (the default): each unit in its own savepoint, so one failing rolls back alone. False:
   * the units share the transaction with no savepoint (two round trips fewer per unit); the first
   * that fails rolls the whole group back, and every unit of it is then applied alone, so it fails
   * by itself and its neighbours commit. For units that seldom fail (a payment's writes, ADR 30).
   */
  readonly savepoints?: boolean;
}

export function commitGroup(db: Db, options: CommitGroupOptions): CommitGroup {
  const queue: Queued[] = [];
  let running = false;

  /** Alone, the transaction is the unit's own (in its trace): no savepoint needed. */
  const commitAlone = (item: Queued): Promise<void> =>
    item.inOwnTrace(() => db.transaction((tx) => item.work(tx))).then(item.resolve, item.reject);

  /** Without savepoints: all or, when one fails, each alone. */
  const commitTogether = async (group: readonly Queued[]): Promise<void> => {
    const values: unknown[] = [];
    try {
      await detachedFromTrace(() => db.transaction(async (tx) => {
        for (const item of group) values.push(await item.inOwnTrace(() => item.work(tx)));
      }));
    } catch {
      for (const item of group) await commitAlone(item);
      return;
    }
    group.forEach((item, i) => item.resolve(values[i]));
  };

  const commit = async (group: readonly Queued[]): Promise<void> => {
    if (group.length === 1) return commitAlone(group[0]!);
    if (options.savepoints === false) return commitTogether(group);
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      // The group's transaction belongs to no one unit's trace; each unit's own work runs in its own.
      await detachedFromTrace(() => db.transaction(async (tx) => {
        for (const item of group) {
          try {
            outcomes.push({ ok: true, value: await item.inOwnTrace(() => discardingAfterCommitsOnFailure(() => tx.transaction((savepoint) => item.work(savepoint)))) });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      }));
    } catch {
      // The group's transaction failed as a whole (its commit, a deferred constraint, a
      // serialization failure): nothing of it happened. Each unit is then applied alone, so that
      // one that can never commit fails by itself instead of taking its neighbours with it (every
      // time they are delivered again, for events).
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
