// Whether a transaction wrote to the outbox: the kit's `db.transaction` (runtime.ts) runs its work
// in a scope, `enqueueEvent` marks the scope, and the relay is kicked after the commit only when
// something was enqueued. No route or store kicks the relay by hand.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface OutboxWrites {
  enqueued: boolean;
}

const scope = new AsyncLocalStorage<OutboxWrites>();

/** Runs `work` (a transaction's body) with `writes` marked by every enqueueEvent inside it. */
export function recordingEnqueues<T>(writes: OutboxWrites, work: () => Promise<T>): Promise<T> {
  return scope.run(writes, work);
}

/** Called by enqueueEvent. Outside a scope (a test writing the outbox directly) the relay's poll finds it. */
export function noteEnqueued(): void {
  const writes = scope.getStore();
  if (writes !== undefined) writes.enqueued = true;
}
