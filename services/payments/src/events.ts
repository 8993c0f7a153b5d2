// The events the payments service publishes: payments through their lifecycle (payment-status.ts),
// refunds and wallet top-ups. Notifications imports them from here (`@paymesh/payments/events`,
// the only module of this service another may import). Amounts are strings of minor units (they
// may exceed 2^53); `amount_display` is the amount formatted for a person.
import { Type } from 'typebox';
import { defineEvent } from '@paymesh/platform/events/define-event';
import { paymentStatuses } from './payments/payment-status.ts';

const producer = 'payments';
const minorUnits = Type.String({ pattern: '^-?[0-9]+$' });

const paymentFields = {
  payment_id: Type.String(),
  user_id: Type.Integer({ minimum: 1 }),
  status: Type.Enum(paymentStatuses),
  amount_minor: minorUnits,
  amount_received: minorUnits,
  amount_refunded: minorUnits,
  currency: Type.String(),
  amount_display: Type.String(),
  payment_method_type: Type.Union([Type.Literal('card'), Type.Literal('wallet'), Type.Null()]),
  /** With a failed attempt: the error's code, and the card's decline code when the processor gave one. */
  failure_code: Type.Optional(Type.String()),
  decline_code: Type.Optional(Type.String()),
};
const payment = Type.Object(paymentFields);

export const PaymentCreated = defineEvent({
  subject: 'payment.created', version: 1, producer,
  description: 'A payment was created (confirmed or not: its attempt, if any, follows as its own event).',
  schema: payment,
});

export const PaymentSucceeded = defineEvent({
  subject: 'payment.succeeded', version: 1, producer,
  description: 'The money was received: an automatic capture, a manual capture, or an asynchronous method settling.',
  schema: Type.Object({ ...paymentFields, amount_captured: Type.Optional(minorUnits) }),
});

export const PaymentFailed = defineEvent({
  subject: 'payment.failed', version: 1, producer,
  description: 'An attempt failed (declined, or the wallet balance too low): the payment waits for another method.',
  schema: payment,
});

export const PaymentRequiresCapture = defineEvent({
  subject: 'payment.requires_capture', version: 1, producer,
  description: 'The card was authorised for a manual capture.',
  schema: payment,
});

export const PaymentRequiresAction = defineEvent({
  subject: 'payment.requires_action', version: 1, producer,
  description: 'The card asks the payer to authenticate (3-D Secure) before it is charged.',
  schema: payment,
});

export const PaymentProcessing = defineEvent({
  subject: 'payment.processing', version: 1, producer,
  description: 'The processor is still deciding; a later event says how it ended.',
  schema: payment,
});

export const PaymentCaptured = defineEvent({
  subject: 'payment.captured', version: 1, producer,
  description: 'A manual capture took `amount_captured` (payment.succeeded follows in the same transaction).',
  schema: Type.Object({ ...paymentFields, amount_captured: minorUnits }),
});

export const PaymentCanceled = defineEvent({
  subject: 'payment.canceled', version: 1, producer,
  description: 'The payment was canceled before it succeeded; an authorisation held for it is released.',
  schema: payment,
});

const refundFields = {
  refund_id: Type.String(),
  payment_id: Type.String(),
  user_id: Type.Integer({ minimum: 1 }),
  amount_minor: minorUnits,
  currency: Type.String(),
  amount_display: Type.String(),
  status: Type.Enum(['pending', 'succeeded', 'failed']),
  reason: Type.Union([Type.String(), Type.Null()]),
};
const refund = Type.Object(refundFields);

export const RefundCreated = defineEvent({
  subject: 'refund.created', version: 1, producer,
  description: 'A refund was asked for and is pending at the processor.',
  schema: refund,
});

export const RefundSucceeded = defineEvent({
  subject: 'refund.succeeded', version: 1, producer,
  description: 'The processor refunded the payer.',
  schema: refund,
});

export const RefundFailed = defineEvent({
  subject: 'refund.failed', version: 1, producer,
  description: 'The processor refused the refund; the amount is refundable again.',
  schema: refund,
});

export const WalletToppedUp = defineEvent({
  subject: 'wallet.topped_up', version: 1, producer,
  description: 'A card topped up a user\'s wallet.',
  schema: Type.Object({
    top_up_id: Type.String(),
    user_id: Type.Integer({ minimum: 1 }),
    amount_minor: minorUnits,
    currency: Type.String(),
    amount_display: Type.String(),
  }),
});
