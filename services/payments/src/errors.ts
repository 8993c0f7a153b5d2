// The payments service's error catalogue, shaped like Stripe's: type, code, decline_code on card
// errors, message, param. Codes are stable API.
import { AppError } from '@paymesh/platform/errors';

export const paymentsErrors = {
  invalidAmount: (message: string, param = 'amount') => new AppError(400, 'invalid_request_error', 'amount_invalid', message, { param }),
  invalidCurrency: (currency: string) => new AppError(400, 'invalid_request_error', 'currency_invalid', `Unsupported currency: ${currency}.`, { param: 'currency' }),
  userNotFound: () => new AppError(404, 'invalid_request_error', 'user_not_found', 'No such user.', { param: 'user_id' }),
  payerDisabled: () => new AppError(403, 'permission_error', 'user_disabled', 'This user is disabled and cannot make payments.', { param: 'user_id' }),
  notYourUser: () => new AppError(403, 'permission_error', 'forbidden', 'You may only make payments for yourself.', { param: 'user_id' }),
  notYourList: (what: string) => new AppError(403, 'permission_error', 'forbidden', `You may only list your own ${what}: user_id names another user.`, { param: 'user_id' }),
  paymentNotFound: () => new AppError(404, 'invalid_request_error', 'payment_not_found', 'No such payment.'),
  invalidIdempotencyKey: () => new AppError(400, 'invalid_request_error', 'idempotency_key_invalid', 'An Idempotency-Key is 1 to 255 printable ASCII characters.', { param: 'idempotency-key' }),
  idempotencyKeyReused: () => new AppError(400, 'idempotency_error', 'idempotency_key_reused', 'This Idempotency-Key was already used with other parameters.', { param: 'idempotency-key' }),
  idempotencyKeyInUse: () => new AppError(409, 'idempotency_error', 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry later.', { param: 'idempotency-key' }),
  /** The request outlived its claim (a stall past the lease) and a retry took the key over: that retry's outcome is the key's. */
  idempotencyClaimLost: () => new AppError(409, 'idempotency_error', 'idempotency_key_in_use', 'A retry with this Idempotency-Key took this request over while it ran; retry to get the outcome.', { param: 'idempotency-key', headers: { 'retry-after': '1' } }),
  invalidCursor: () => new AppError(400, 'invalid_request_error', 'parameter_invalid', 'starting_after is not an object in this list.', { param: 'starting_after' }),

  cardDetails: (code: string, message: string, field: string) => new AppError(402, 'card_error', code, message, { param: `payment_method[${field}]` }),
  cardDeclined: (decline: { code: string; declineCode: string; message: string }, details?: Record<string, unknown>) =>
    new AppError(402, 'card_error', decline.code, decline.message, { declineCode: decline.declineCode, details }),
  balanceInsufficient: (details?: Record<string, unknown>) =>
    new AppError(402, 'invalid_request_error', 'balance_insufficient', 'The wallet balance is too low for this payment.', { param: 'payment_method', details }),
  authenticationRequired: () => new AppError(402, 'card_error', 'authentication_required', 'This card requires authentication, which top-ups do not support; use another card.', { declineCode: 'authentication_required', param: 'payment_method' }),
  notYourAuthorization: () => new AppError(403, 'permission_error', 'forbidden', 'Only an admin, a service or whoever created this payment may capture or cancel its authorization.'),
  paymentMethodNotFound: () => new AppError(404, 'invalid_request_error', 'payment_method_not_found', 'No such payment method.', { param: 'payment_method' }),
  paymentMethodRequired: () => new AppError(400, 'invalid_request_error', 'payment_method_required', 'This payment has no payment method: give one to confirm it.', { param: 'payment_method' }),
  paymentMethodDetached: () => new AppError(400, 'invalid_request_error', 'payment_method_detached', "This payment's payment method has been deleted: confirm it with another one, or cancel it.", { param: 'payment_method' }),
  paymentMethodUnusable: () => new AppError(400, 'invalid_request_error', 'payment_method_unusable', 'A wallet cannot top itself up: top up from a card.', { param: 'payment_method' }),
  unexpectedState: (action: string, status: string) =>
    new AppError(400, 'invalid_request_error', 'payment_unexpected_state', `You cannot ${action} this payment because it has a status of ${status}.`),
  amountTooLarge: (param: string, message: string) => new AppError(400, 'invalid_request_error', 'amount_too_large', message, { param }),
  alreadyRefunded: () => new AppError(400, 'invalid_request_error', 'charge_already_refunded', 'This payment has already been refunded in full.'),
  refundFailed: (reason: string, details: Record<string, unknown>) => new AppError(402, 'invalid_request_error', 'refund_failed', `The processor refused the refund: ${reason}.`, { details }),
};
