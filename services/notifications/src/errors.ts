// The notifications service's error catalogue.
import { AppError } from '@paymesh/platform/errors';

export const notificationsErrors = {
  // The contract's PUT answers a bare 404 for another user's or an unknown id; the message says so.
  notificationNotFound: () => new AppError(404, 'invalid_request_error', 'notification_not_found', 'No such notification.', { legacy: { message: 'Notification not found.' } }),
  tooManyStreams: () => new AppError(429, 'rate_limit_error', 'too_many_streams', 'Too many live streams are open for this user; close one first.', { headers: { 'retry-after': '5' } }),
  invalidCursor: (param = 'starting_after') => new AppError(400, 'invalid_request_error', 'parameter_invalid', `${param} is not an item of this list.`, { param }),
  preferenceLocked: (type: string) => new AppError(400, 'invalid_request_error', 'preference_locked', `${type} is a security message: it cannot be switched off.`, { param: type }),
  channelNotOffered: (type: string, channel: string) => new AppError(400, 'invalid_request_error', 'channel_not_offered', `${type} is never sent by ${channel}.`, { param: `${type}.${channel}` }),
  unknownType: (type: string) => new AppError(400, 'invalid_request_error', 'type_unknown', `${type} is not a notification type (GET /notifications/preferences lists them; custom types follow "message").`, { param: type }),
  servicesOnlyType: (type: string) => new AppError(403, 'permission_error', 'type_reserved', `Only services may send ${type} notifications.`, { param: 'type' }),
  recipientNotFound: () => new AppError(404, 'invalid_request_error', 'recipient_not_found', 'This user was deleted.', { param: 'user_id' }),
  deviceNotFound: () => new AppError(404, 'invalid_request_error', 'device_not_found', 'No such device.'),
  tooManyDevices: (max: number) => new AppError(400, 'invalid_request_error', 'too_many_devices', `A user may register at most ${max} devices; remove one first.`),
  invalidSubscription: (message: string) => new AppError(400, 'invalid_request_error', 'subscription_invalid', message, { param: 'subscription' }),
  webhookEndpointNotFound: () => new AppError(404, 'invalid_request_error', 'webhook_endpoint_not_found', 'No such webhook endpoint.'),
  tooManyWebhookEndpoints: (max: number) => new AppError(400, 'invalid_request_error', 'too_many_webhook_endpoints', `A user may register at most ${max} webhook endpoints; delete one first.`),
  webhookTargetRefused: (param: string, reason: string) => new AppError(400, 'invalid_request_error', 'url_not_allowed', `This URL is not allowed (${reason}): targets must be public http(s) addresses.`, { param }),
  allUsersForbidden: () => new AppError(403, 'permission_error', 'forbidden', 'Only admins may receive every user\'s events.', { param: 'all_users' }),
  unknownEventType: (type: string) => new AppError(400, 'invalid_request_error', 'event_type_unknown', `${type} is not an event type webhooks can receive.`, { param: 'event_types' }),
  deliveryNotFound: () => new AppError(404, 'invalid_request_error', 'delivery_not_found', 'No such delivery.'),
  alreadyDelivered: () => new AppError(409, 'invalid_request_error', 'delivery_already_delivered', 'This email or push was delivered; only webhook deliveries can be sent again.'),
  deliveryNotRedeliverable: () => new AppError(409, 'invalid_request_error', 'delivery_not_redeliverable', 'This delivery\'s content was erased (it held a single-use link, or its recipient was deleted); it cannot be sent again.'),
};
