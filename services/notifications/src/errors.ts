// The notifications service's error catalogue.
import { AppError } from '@paymesh/platform/errors';

export const notificationsErrors = {
  // The contract's PUT answers a bare 404 for another user's or an unknown id; the message says so.
  notificationNotFound: () => new AppError(404, 'invalid_request_error', 'notification_not_found', 'No such notification.', { legacy: { message: 'Notification not found.' } }),
  tooManyStreams: () => new AppError(429, 'rate_limit_error', 'too_many_streams', 'Too many live streams are open for this user; close one first.', { headers: { 'retry-after': '5' } }),
  invalidCursor: () => new AppError(400, 'invalid_request_error', 'parameter_invalid', 'starting_after is not a notification in this inbox.', { param: 'starting_after' }),
};
