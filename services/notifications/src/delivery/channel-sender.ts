import type { DeliveryOutcome } from './delivery-outcome.ts';

/** A delivery as the worker claimed it. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly recipient_id: string;
  readonly type: string;
  readonly channel: 'email' | 'push' | 'webhook';
  readonly target_id: string | null;
  readonly payload: Record<string, unknown> | null;
  /** This attempt's number, from 1. */
  readonly attempts: number;
  /** A redelivery asked for through the API: not retried on failure. */
  readonly manual: boolean;
  readonly created_at: string | Date;
  /** The trace of what recorded the delivery (dispatch-message.ts); null when tracing was off. */
  readonly traceparent: string | null;
}

export interface AttemptResult {
  readonly outcome: DeliveryOutcome;
  /** What the far end answered, for the delivery log (webhooks: the start of the response body). */
  readonly response?: string;
}

/** One per channel (email, push, webhook): the worker knows nothing of protocols. */
export interface ChannelSender {
  send(delivery: ClaimedDelivery): Promise<AttemptResult>;
  close?(): Promise<void>;
}
