// The consumer's side of a contract: an event is handled only if its version is one the consumer
// knows and its payload is what the contract's schema says. Anything else is dead-lettered:
// retrying cannot fix a payload, so it is logged at error (subject, event id, the first schema
// errors), counted in events_dead_lettered_total and acknowledged, and the events after it flow.
import { Compile } from 'typebox/compile';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { EventContract, EventData } from './define-event.ts';
import type { EventEnvelope } from './event.ts';

/** Schema errors logged per dead letter: enough to see the disagreement, bounded for the log. */
const loggedErrors = 3;

export interface DeadLetters {
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'eventsDeadLettered'>;
}

export type EventAdmission<C extends EventContract> = (event: EventEnvelope) => EventEnvelope<EventData<C>> | undefined;

/**
 * Compiles the contract's schema once and returns the check for `consumer`: the event, typed, or
 * undefined once it has been dead-lettered.
 */
export function admitEvent<C extends EventContract>(contract: C, consumer: string, deadLetters: DeadLetters): EventAdmission<C> {
  const validator = Compile(contract.schema);
  const refuse = (event: EventEnvelope, reason: 'version' | 'schema', details: Record<string, unknown>): undefined => {
    deadLetters.metrics.eventsDeadLettered.inc({ consumer, subject: contract.subject, reason });
    deadLetters.logger.error({ consumer, subject: event.subject, eventId: event.id, ...details }, reason === 'version'
      ? 'event dead-lettered: a contract version this consumer does not know'
      : 'event dead-lettered: its payload does not match the contract');
    return undefined;
  };
  return (event) => {
    // Events from before versions travelled are version 1.
    const version = event.version ?? 1;
    // A lower version is one this consumer's contract grew from additively: its schema decides.
    if (!Number.isSafeInteger(version) || version < 1 || version > contract.version) return refuse(event, 'version', { version, known: contract.version });
    if (!validator.Check(event.data)) {
      const errors = validator.Errors(event.data).slice(0, loggedErrors).map((error) => `${error.instancePath || '/'} ${error.message}`);
      return refuse(event, 'schema', { version, errors });
    }
    return event as EventEnvelope<EventData<C>>;
  };
}
