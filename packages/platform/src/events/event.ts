import { randomUUID } from 'node:crypto';

/** What travels on the event transport. `id` is unique per event and is the dedupe key everywhere. */
export interface EventEnvelope<T = unknown> {
  readonly id: string;
  readonly subject: string;
  /**
   * The contract's major version the payload was written for (define-event.ts). Absent on events
   * published before versions were carried: those are version 1.
   */
  readonly version?: number;
  readonly occurredAt: string;
  readonly requestId: string | undefined;
  /**
   * The W3C `traceparent` of the span that sent the event (the relay's publish span), so the
   * consumer's span continues the trace; absent when tracing is off. On NATS it travels as a
   * message header, not in the body.
   */
  readonly traceparent?: string;
  readonly data: T;
}

export function newEvent<T>(subject: string, data: T, requestId: string | undefined, now = new Date(), version = 1): EventEnvelope<T> {
  return { id: randomUUID(), subject, version, occurredAt: now.toISOString(), requestId, data };
}

export type EventHandler = (event: EventEnvelope) => Promise<void>;

export interface Subscription {
  stop(): Promise<void>;
}

/**
 * Moves published events to consumers. Two implementations: in-process (embedded mode) and NATS
 * JetStream (distributed mode).
 */
export interface EventTransport {
  readonly kind: 'in-process' | 'nats';
  /** Resolves once the transport has durably accepted the event (in-process: once delivered). */
  publish(event: EventEnvelope): Promise<void>;
  /** A durable, work-sharing consumer: among the replicas of `consumer`, one handles each event. A throwing handler gets the event again later. */
  consume(consumer: string, subject: string, handler: EventHandler): Promise<Subscription>;
  /**
   * Every instance receives every event; on start it first replays the last `replayMs` of them.
   * `follower` names the service that listens (the subscription list, the AsyncAPI document).
   */
  broadcast(subject: string, handler: EventHandler, options: { replayMs: number; follower?: string }): Promise<Subscription>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
