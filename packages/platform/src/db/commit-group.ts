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
// POST /payments (ADR 30). `commitBatch` is the same group with one function applying all of its
// items at once, so that it can write them in multi-row statements (a statement per table for the
// group instead of one per item): the consumers of a contract that handles events in groups.
import type { Db } from './open-database.ts';
import { boundToCurrentTrace, detachedFromTrace } from '../tracing/trace-context.ts';
import { holdingWrites } from './held-writes.ts';

export interface CommitGroup {
  /** Applies `work` in the next group's transaction; settles once that transaction has committed (or `work` failed). */
  run<T>(work: (tx: Db) => Promise<T>): Promise<T>;
}

export interface CommitBatch<I, R> {
  /** Applies `item` with the next group's items; settles with its result once that transaction has committed (or failed). */
  run(item: I): Promise<R>;
}

export interface CommitBatchOptions<I, R> {
  readonly maxSize: number;
  /**
   * Applies the items in `tx`, in the order they were handed in; one result per item, in that
   * order. `alone`: one item in a transaction of its own, already run in the item's trace (its
   * work belongs inside the transaction's span); otherwise the transaction is no one item's.
   */
  readonly apply: (tx: Db, items: readonly I[], alone: boolean) => Promise<readonly R[]>;
}

interface Queued<I> {
  readonly item: I;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Runs a function in the trace that was active when the item was handed in. */
  readonly inOwnTrace: <T>(run: () => T) => T;
}

export function commitBatch<I, R>(db: Db, options: CommitBatchOptions<I, R>): CommitBatch<I, R> {
  const queue: Queued<I>[] = [];
  let running = false;

  const applied = async (tx: Db, items: readonly I[], alone: boolean): Promise<readonly R[]> => {
    // What the units hold back (their events, …) is written after them, a statement per kind.
    const results = await holdingWrites(tx, () => options.apply(tx, items, alone));
    if (results.length !== items.length) throw new Error(`commit batch: ${results.length} results for ${items.length} items`);
    return results;
  };

  /** Alone, the transaction is the item's own (in its trace). */
  const commitAlone = (queued: Queued<I>): Promise<void> =>
    queued.inOwnTrace(() => db.transaction((tx) => applied(tx, [queued.item], true))).then((results) => queued.resolve(results[0]), queued.reject);

  const commit = async (group: readonly Queued<I>[]): Promise<void> => {
    if (group.length === 1) return commitAlone(group[0]!);
    let results: readonly R[];
    try {
      // The group's transaction belongs to no one item's trace.
      results = await detachedFromTrace(() => db.transaction((tx) => applied(tx, group.map((queued) => queued.item), false)));
    } catch {
      // An item failed (or the commit, a deferred constraint, a serialization failure): nothing of
      // the group happened. Each item alone: one that can never commit fails by itself instead of
      // taking its neighbours with it (every time they are delivered again, for events).
      for (const queued of group) await commitAlone(queued);
      return;
    }
    group.forEach((queued, i) => queued.resolve(results[i]));
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
    run(item: I): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve: resolve as (value: unknown) => void, reject, inOwnTrace: boundToCurrentTrace(<T>(run: () => T) => run()) });
        // The pump serves every later caller too: it belongs to no one caller's trace.
        if (!running) void detachedFromTrace(pump);
      });
    },
  };
}

/** A group whose units are functions, applied one after another, each in its caller's trace. */
export function commitGroup(db: Db, options: { readonly maxSize: number }): CommitGroup {
  interface Unit { readonly work: (tx: Db) => Promise<unknown>; readonly inOwnTrace: <T>(run: () => T) => T }
  const batch = commitBatch<Unit, unknown>(db, {
    maxSize: options.maxSize,
    apply: async (tx, units, alone) => {
      if (alone) return [await units[0]!.work(tx)];
      const values: unknown[] = [];
      for (const unit of units) values.push(await unit.inOwnTrace(() => unit.work(tx)));
      return values;
    },
  });
  return {
    run: <T>(work: (tx: Db) => Promise<T>) => batch.run({ work, inOwnTrace: boundToCurrentTrace(<U>(run: () => U) => run()) }) as Promise<T>,
  };
}
