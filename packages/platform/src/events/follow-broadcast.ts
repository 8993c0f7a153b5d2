import { admitEvent, type DeadLetters } from './admit-event.ts';
import type { EventContract, EventData } from './define-event.ts';
import type { EventEnvelope, EventTransport, Subscription } from './event.ts';

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
  return transport.broadcast(contract.subject, async (received) => {
    const event = admit(received);
    if (event !== undefined) await handle(event);
  }, { replayMs: options.replayMs });
}
