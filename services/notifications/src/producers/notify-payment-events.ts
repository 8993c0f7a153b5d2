// Payment and refund events become messages to the payer (inbox, email, push, webhooks), one
// template per event.
// Each event is consumed idempotently (see consumeEvents): a redelivery creates nothing twice.
import type { Consumer } from '@paymesh/platform/service-declaration';
import { dispatchMessage, type Fanout } from '../messages/dispatch-message.ts';

/** What payment.* and refund.* events carry that the templates use. */
export interface PaymentEvent {
  readonly payment_id: string;
  readonly refund_id?: string;
  readonly user_id: number;
  readonly amount_minor: string;
  readonly currency: string;
  readonly amount_display: string;
  readonly decline_code?: string;
  readonly failure_code?: string;
}

interface Template {
  readonly title: string;
  readonly message: (event: PaymentEvent) => string;
}

const declineReasons: Record<string, string> = {
  insufficient_funds: 'the card has insufficient funds',
  expired_card: 'the card has expired',
  incorrect_cvc: "the card's security code is incorrect",
  processing_error: 'the card could not be processed; try again',
  balance_insufficient: 'the wallet balance is too low',
};

export const paymentTemplates: Record<string, Template> = {
  'payment.succeeded': { title: 'Payment received', message: (e) => `Payment of ${e.amount_display} received.` },
  'payment.failed': {
    title: 'Payment failed',
    message: (e) => `Your payment of ${e.amount_display} failed: ${declineReasons[e.decline_code ?? e.failure_code ?? ''] ?? 'the card was declined'}.`,
  },
  'refund.succeeded': { title: 'Refund issued', message: (e) => `A refund of ${e.amount_display} is on its way to you.` },
};

/** One consumer per template: the message to the payer. */
export const paymentEventConsumers: Consumer<{ readonly fanout: Fanout }, PaymentEvent>[] = Object.entries(paymentTemplates).map(([subject, template]) => ({
  subject,
  afterCommit: ({ fanout }) => fanout.afterCommit(),
  async handle(tx, event, { fanout }) {
    const e = event.data;
    await dispatchMessage(tx, {
      recipientId: String(e.user_id),
      type: subject,
      title: template.title,
      message: template.message(e),
      data: { payment_id: e.payment_id, ...(e.refund_id === undefined ? {} : { refund_id: e.refund_id }), amount: e.amount_minor, currency: e.currency.toLowerCase() },
    }, fanout);
  },
}));
