import type { Db } from '../db/open-database.ts';
import type { EventContract, EventData } from './define-event.ts';
import type { EventEnvelope } from './event.ts';

/**
 * One event a service consumes and what it does with it: a plain declaration, subscribed by
 * consumeEvents (the service's `consumes` list). The handler's event is typed by the contract.
 */
export interface EventConsumer<C extends EventContract = EventContract> {
  readonly contract: C;
  /** Runs inside the transaction that records the event id; write the effect with `tx`. */
  handle(tx: Db, event: EventEnvelope<EventData<C>>): Promise<void>;
  /** After a handled event committed: the service's own wake-up (a worker); the relay is the kit's. */
  readonly afterCommit?: () => void;
}

export function consume<C extends EventContract>(contract: C, handle: (tx: Db, event: EventEnvelope<EventData<C>>) => Promise<void>, afterCommit?: () => void): EventConsumer<C> {
  return { contract, handle, afterCommit };
}
