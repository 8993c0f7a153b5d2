// An event's contract: what a producer promises to publish under a subject, in one plain object
// (subject, version, TypeBox schema, description, producer) that enqueue() and consume() type by
// and the AsyncAPI document can be generated from. The producing service declares its contracts
// in its src/events.ts; consumers import them from there (docs/adr/0017-typed-event-contracts.md).
import type { Static, TObject } from 'typebox';

export interface EventContract<S extends TObject = TObject> {
  /** Dotted, lower case (`payment.succeeded`): the transport's subject. */
  readonly subject: string;
  /**
   * The payload's major version. Additive changes (a new optional field) keep it; a change an
   * existing consumer would misread (a field removed, renamed or retyped) bumps it, and consumers
   * dead-letter versions higher than the one they were built with.
   */
  readonly version: number;
  readonly schema: S;
  /** What happened, for the reader of events.ts and of the AsyncAPI document. */
  readonly description: string;
  /** The service that enqueues it (the only one that may). */
  readonly producer: string;
}

/** The payload type of a contract. */
export type EventData<C extends EventContract> = Static<C['schema']>;

/** Whether `value` is a contract (what a service's events.ts exports beside other things). */
export function isEventContract(value: unknown): value is EventContract {
  return typeof value === 'object' && value !== null && ['subject', 'version', 'schema', 'producer', 'description'].every((key) => key in value);
}

const subjectPattern = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

export function defineEvent<const S extends TObject>(contract: EventContract<S>): EventContract<S> {
  // Programmer errors in a declaration: crash at import, not at the first publish.
  if (!subjectPattern.test(contract.subject)) throw new Error(`event subject ${JSON.stringify(contract.subject)} is not dotted lower case`);
  if (!Number.isSafeInteger(contract.version) || contract.version < 1) throw new Error(`event ${contract.subject}: version must be a positive integer`);
  if (contract.producer === '') throw new Error(`event ${contract.subject}: producer is required`);
  return Object.freeze({ ...contract });
}
