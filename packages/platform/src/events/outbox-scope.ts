// Whether a transaction wrote to the outbox: the kit's `db.transaction` (runtime.ts) runs its work
// in a scope, `enqueue` marks the scope, and the relay is kicked after the commit only when
// something was enqueued. No route or store kicks the relay by hand. The scope also knows the
// subjects the service declares it publishes: enqueueing another one is a programmer error. What
// must happen only once the change is committed (a metric counting it) is queued on the same
// scope by `afterCommit`.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface OutboxWrites {
  enqueued: boolean;
  /** The service's declared `publishes`; undefined checks nothing (a runtime opened without a declaration). */
  readonly publishes: ReadonlySet<string> | undefined;
  readonly service: string;
  /** Queued by `afterCommit`: run in order once the transaction has committed, never after a rollback. */
  readonly committed: (() => void)[];
  /** While `holdingEnqueues` runs: the outbox rows enqueued, written together when it ends. */
  held?: unknown[];
}

const scope = new AsyncLocalStorage<OutboxWrites>();

/** Runs `work` (a transaction's body) with `writes` marked by every enqueue inside it. */
export function recordingEnqueues<T>(writes: OutboxWrites, work: () => Promise<T>): Promise<T> {
  return scope.run(writes, work);
}

/** Called by enqueue. Outside a scope (a test writing the outbox directly) the relay's poll finds it. */
export function noteEnqueued(subject: string): void {
  const writes = scope.getStore();
  if (writes === undefined) return;
  if (writes.publishes !== undefined && !writes.publishes.has(subject)) {
    throw new Error(`${writes.service} enqueued ${subject}, which its declaration does not publish (add it to \`publishes\` in service.ts)`);
  }
  writes.enqueued = true;
}

/**
 * Runs `effect` once the transaction of the service's database the caller is in has committed (a
 * savepoint inside it is not a transaction of its own). Outside one it throws: the effect would
 * run for a change that may yet roll back, or never.
 */
export function afterCommit(effect: () => void): void {
  const writes = scope.getStore();
  if (writes === undefined) throw new Error('afterCommit called outside a transaction of the service database (runtime.database.db.transaction)');
  writes.committed.push(effect);
}

/** The rows enqueue should hold back instead of writing now, if a `holdingEnqueues` is under way. */
export function heldEnqueues(): unknown[] | undefined {
  return scope.getStore()?.held;
}

/**
 * Runs `work` (units of a commit group) with its enqueues held back, then hands them all to
 * `write` in the same transaction: one statement for a group's events instead of one per event.
 * Outside a transaction of the service's database, or inside another hold, it only runs `work`.
 * Work that fails writes nothing (its transaction rolls back anyway).
 */
export async function holdingEnqueues<T>(work: () => Promise<T>, write: (rows: unknown[]) => Promise<void>): Promise<T> {
  const writes = scope.getStore();
  if (writes === undefined || writes.held !== undefined) return work();
  const held: unknown[] = [];
  writes.held = held;
  try {
    const value = await work();
    writes.held = undefined;
    if (held.length > 0) await write(held);
    return value;
  } finally {
    writes.held = undefined;
  }
}
