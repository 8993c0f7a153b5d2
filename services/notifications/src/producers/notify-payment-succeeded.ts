// A succeeded payment becomes a notification in the payer's inbox. The inbox table makes a
// redelivered event a no-op (see consumeEvents).
import { consumeEvents } from '@paymesh/platform/events/consume-events';
import type { Subscription } from '@paymesh/platform/events/event';
import type { Runtime } from '@paymesh/platform/runtime';
import { insertNotification } from '../inbox/notification.ts';

export interface PaymentSucceeded {
  readonly payment_id: string;
  readonly user_id: number;
  readonly amount_minor: string;
  readonly currency: string;
  readonly amount_display: string;
}

export function notifyPaymentSucceeded(runtime: Runtime): Promise<Subscription> {
  return consumeEvents<PaymentSucceeded>({
    db: runtime.database.db,
    transport: runtime.transport,
    logger: runtime.logger,
    consumer: 'notifications',
    subject: 'payment.succeeded',
    async handle(tx, event) {
      await insertNotification(tx, {
        recipientId: String(event.data.user_id),
        type: 'payment.succeeded',
        title: 'Payment received',
        message: `Payment of ${event.data.amount_display} received.`,
        data: { payment_id: event.data.payment_id, amount: event.data.amount_minor, currency: event.data.currency.toLowerCase() },
      });
    },
  });
}
