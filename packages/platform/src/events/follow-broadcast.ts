import { admitEvent, type DeadLetters } from './admit-event.ts';
import type { EventContract, EventData } from './define-event.ts';
import type { EventEnvelope, EventTransport, Subscription } from './event.ts';
import { inSpanFrom, SpanKind } from '../tracing/trace-context.ts';

/**
 * Follows a contract's broadcast (every instance receives every event, nothing is recorded), with
 * the same check as consumeEvents: an event the contract does not admit is dead-lettered.
 */
export function followBroadcast<C extends EventContract>(
  transport: EventTransport,
  contract: C,
  handle: (event: EventEnvelope<EventData<C>>) => Promise<void>,
  options: DeadLetters & { readonly follower: string; readonly replayMs: number },
): Promise<Subscription> {
  const admit = admitEvent(contract, options.follower, options);
  return transport.broadcast(contract.subject, (received) => inSpanFrom(received.traceparent, `process ${received.subject}`, SpanKind.CONSUMER, {
    'messaging.operation.type': 'process', 'messaging.destination.name': received.subject, 'messaging.message.id': received.id, 'messaging.consumer.group.name': options.follower,
  }, async () => {
    const event = admit(received);
    if (event !== undefined) await handle(event);
  }), { replayMs: options.replayMs, follower: options.follower });
}

/** An event every replica of a service hears, replaying the last `replayMs` at start. */
export interface EventBroadcast<C extends EventContract = EventContract> {
  readonly contract: C;
  readonly replayMs: number;
  hear(event: EventEnvelope<EventData<C>>): Promise<void>;
}

/** A broadcast declared in a service's `consumes`, its handler typed by the contract. */
export function hear<C extends EventContract>(contract: C, replayMs: number, handle: (event: EventEnvelope<EventData<C>>) => Promise<void>): EventBroadcast<C> {
  return { contract, replayMs, hear: handle };
}
