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
