// What one attempt to deliver a message on a channel came to. The delivery worker turns it into
// the delivery's next state: delivered, another attempt later, or the dead-letter state.

export type DeliveryOutcome =
  /** The provider accepted the message. */
  | { readonly kind: 'delivered'; readonly statusCode?: number; readonly providerId?: string }
  /** Worth another attempt later (timeout, 5xx, 429, connection refused…). */
  | { readonly kind: 'retry'; readonly error: string; readonly statusCode?: number; readonly retryAfterMs?: number }
  /** Will never succeed as it is (bad request, payload refused): straight to dead-letter. */
  | { readonly kind: 'failed'; readonly error: string; readonly statusCode?: number }
  /** The provider says the device token or subscription is gone: the device is removed. */
  | { readonly kind: 'invalid_target'; readonly error: string; readonly statusCode?: number }
  /** Nobody wants it any more (the device was unregistered, the endpoint deleted or disabled, the
   * recipient deleted): not a failure, so it does not count as dead-letter. */
  | { readonly kind: 'canceled'; readonly error: string; readonly statusCode?: number };
