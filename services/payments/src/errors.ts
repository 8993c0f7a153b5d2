// The payments service's error catalogue (Stripe-shaped: type, code, message, param).
import { AppError } from '@paymesh/platform/errors';

export const paymentsErrors = {
  invalidAmount: (message: string) => new AppError(400, 'invalid_request_error', 'amount_invalid', message, { param: 'amount' }),
  invalidCurrency: (currency: string) => new AppError(400, 'invalid_request_error', 'currency_invalid', `Unsupported currency: ${currency}.`, { param: 'currency' }),
  userNotFound: () => new AppError(404, 'invalid_request_error', 'user_not_found', 'No such user.', { param: 'user_id' }),
  notYourUser: () => new AppError(403, 'permission_error', 'forbidden', 'You may only make payments for yourself.', { param: 'user_id' }),
  paymentNotFound: () => new AppError(404, 'invalid_request_error', 'payment_not_found', 'No such payment.'),
  invalidIdempotencyKey: () => new AppError(400, 'invalid_request_error', 'idempotency_key_invalid', 'An Idempotency-Key is 1 to 255 printable ASCII characters.', { param: 'idempotency-key' }),
  idempotencyKeyReused: () => new AppError(400, 'idempotency_error', 'idempotency_key_reused', 'This Idempotency-Key was already used with other parameters.', { param: 'idempotency-key' }),
  idempotencyKeyInUse: () => new AppError(409, 'idempotency_error', 'idempotency_key_in_use', 'A request with this Idempotency-Key is still being processed; retry later.', { param: 'idempotency-key' }),
  invalidCursor: () => new AppError(400, 'invalid_request_error', 'parameter_invalid', 'starting_after is not a payment in this list.', { param: 'starting_after' }),
};
