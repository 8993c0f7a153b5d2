// The payment lifecycle, on Stripe's PaymentIntent. Every status change in the service goes
// through `assertTransition`, so this table is the whole state machine:
//
//   requires_payment_method ──(method given)──▶ requires_confirmation ──confirm──▶ processing
//   processing ──▶ succeeded | requires_capture | requires_action | requires_payment_method (failed)
//   requires_action ──confirm (authenticated)──▶ processing
//   requires_capture ──capture──▶ succeeded;  any status before processing or succeeded ──cancel──▶ canceled
//
// A failed attempt is an outcome, not a status: the payment goes back to requires_payment_method
// with `last_payment_error` (code and decline_code), as Stripe does, and can be retried with
// another method. `processing` lasts for the processor call, or until an asynchronous method
// settles. `succeeded` and `canceled` are final; a succeeded payment is refunded, never reopened.
import { paymentsErrors } from '../errors.ts';

export const paymentStatuses = ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'succeeded', 'canceled'] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

const transitions: Record<PaymentStatus, readonly PaymentStatus[]> = {
  requires_payment_method: ['requires_confirmation', 'processing', 'canceled'],
  requires_confirmation: ['requires_payment_method', 'processing', 'canceled'],
  requires_action: ['processing', 'canceled'],
  processing: ['succeeded', 'requires_capture', 'requires_action', 'requires_payment_method'],
  requires_capture: ['succeeded', 'canceled'],
  succeeded: [],
  canceled: [],
};

function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return transitions[from].includes(to);
}

/** Throws Stripe's unexpected-state error when `action` would need a transition the table does not allow. */
export function assertTransition(from: PaymentStatus, to: PaymentStatus, action: string): void {
  if (!canTransition(from, to)) throw paymentsErrors.unexpectedState(action, from);
}

/** The statuses each action starts from; the transition it then makes is checked against the table above. */
const actionsFrom: Record<'confirm' | 'capture' | 'cancel' | 'refund', readonly PaymentStatus[]> = {
  confirm: ['requires_payment_method', 'requires_confirmation', 'requires_action'],
  capture: ['requires_capture'],
  cancel: ['requires_payment_method', 'requires_confirmation', 'requires_action', 'requires_capture'],
  refund: ['succeeded'],
};

export function assertAction(status: PaymentStatus, action: keyof typeof actionsFrom): void {
  if (!actionsFrom[action].includes(status)) throw paymentsErrors.unexpectedState(action, status);
}
