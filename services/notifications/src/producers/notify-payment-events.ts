// Payment and refund events become messages to the payer (inbox, email, push, webhooks), one
// template per event.
// Each event is consumed idempotently (see consumeEvents): a redelivery creates nothing twice. The
// events that arrive together are dispatched together (a few statements for the whole group).
import { consumeInGroups, type EventConsumer } from '@paymesh/platform/events/consume';
import type { EventData } from '@paymesh/platform/events/define-event';
import { PaymentFailed, PaymentSucceeded, RefundSucceeded } from '@paymesh/payments/events';
import { currentlySentFrom, dispatchMessages, type Fanout } from '../dispatch/dispatch-message.ts';

type PayerEvent = typeof PaymentSucceeded | typeof PaymentFailed | typeof RefundSucceeded;

const declineReasons: Record<string, string> = {
  insufficient_funds: 'the card has insufficient funds',
  expired_card: 'the card has expired',
  incorrect_cvc: "the card's security code is incorrect",
  processing_error: 'the card could not be processed; try again',
  balance_insufficient: 'the wallet balance is too low',
};

export function paymentConsumers(fanout: Fanout): EventConsumer[] {
  /** The message an event becomes, to its payer; the message type is the event's subject. */
  const toPayer = <C extends PayerEvent>(contract: C, title: string, message: (e: EventData<C>) => string) => consumeInGroups(contract, async (tx, events) => {
    await dispatchMessages(tx, events.map(({ event, inOwnContext }) => {
      const e: EventData<PayerEvent> = event.data;
      return {
        recipientId: String(e.user_id),
        type: contract.subject,
        title,
        message: message(event.data),
        data: { payment_id: e.payment_id, ...('refund_id' in e ? { refund_id: e.refund_id } : {}), amount: e.amount_minor, currency: e.currency.toLowerCase() },
        ...inOwnContext(currentlySentFrom),
      };
    }), fanout);
  });
  const consumers: EventConsumer[] = [
    toPayer(PaymentSucceeded, 'Payment received', (e) => `Payment of ${e.amount_display} received.`),
    toPayer(PaymentFailed, 'Payment failed', (e) => `Your payment of ${e.amount_display} failed: ${declineReasons[e.decline_code ?? e.failure_code ?? ''] ?? 'the card was declined'}.`),
    toPayer(RefundSucceeded, 'Refund issued', (e) => `A refund of ${e.amount_display} is on its way to you.`),
  ];
  // A message makes deliveries: the delivery worker is woken once they commit.
  return consumers.map((c) => ({ ...c, afterCommit: fanout.afterCommit }));
}

