import type { Db } from '../db/open-database.ts';
import type { EventContract, EventData } from './define-event.ts';
import type { EventEnvelope } from './event.ts';

/** One event of a group handed to a consumer, with a way to run code in its own request id and trace. */
export interface HandedEvent<D = unknown> {
  readonly event: EventEnvelope<D>;
  readonly inOwnContext: <T>(run: () => T) => T;
}

/**
 * One event a service consumes and what it does with it: a plain declaration, subscribed by
 * consumeEvents (the service's `consumes` list). The handler's events are typed by the contract.
 */
export interface EventConsumer<C extends EventContract = EventContract> {
  readonly contract: C;
  /**
   * Runs inside the transaction that records the events' ids: the effect of each of `events`
   * (those not handled before, in the order they arrived), written with `tx`. The events that
   * arrive together commit together (consume-events.ts).
   */
  handleGroup(tx: Db, events: readonly HandedEvent<EventData<C>>[]): Promise<void>;
  /** After handled events committed: the service's own wake-up (a worker); the relay is the kit's. */
  readonly afterCommit?: () => void;
}

/** A consumer that handles its events one at a time, each in its own request id and trace. */
export function consume<C extends EventContract>(contract: C, handle: (tx: Db, event: EventEnvelope<EventData<C>>) => Promise<void>, afterCommit?: () => void): EventConsumer<C> {
  return {
    contract,
    async handleGroup(tx, events) {
      for (const { event, inOwnContext } of events) await inOwnContext(() => handle(tx, event));
    },
    afterCommit,
  };
}

/**
 * A consumer that handles a group of events at once, so that it can write their effects in
 * multi-row statements (one per table for the whole group instead of one per event).
 */
export function consumeInGroups<C extends EventContract>(contract: C, handleGroup: EventConsumer<C>['handleGroup'], afterCommit?: () => void): EventConsumer<C> {
  return { contract, handleGroup, afterCommit };
}
