// The auth service's error catalogue.
import { AppError } from '@paymesh/platform/errors';

export const authErrors = {
  invalidCredentials: () => new AppError(401, 'authentication_error', 'invalid_credentials', 'Invalid username or password.', { legacy: { message: 'Invalid credentials' } }),
  // The same for a known and an unknown username: a lockout must not tell which accounts exist.
  tooManyAttempts: (retryAfterSec: number) =>
    new AppError(429, 'rate_limit_error', 'too_many_attempts', 'Too many failed logins; try again later.', { headers: { 'retry-after': String(retryAfterSec) } }),
  clientNotFound: () => new AppError(404, 'invalid_request_error', 'client_not_found', 'No such OAuth client.'),
  invalidClientMetadata: (message: string, param?: string) => new AppError(400, 'invalid_request_error', 'client_metadata_invalid', message, param === undefined ? {} : { param }),
  // A registration asking for what no client of its kind may hold: the platform-wide audience,
  // auth's API or admin scopes for a third party, a service's scopes for anyone.
  clientPrivilegeRefused: (message: string, param = 'resource_scopes') => new AppError(400, 'invalid_request_error', 'client_privilege_refused', message, { param }),
  publicClientHasNoSecret: () => new AppError(400, 'invalid_request_error', 'client_is_public', 'A public client has no secret to rotate.'),
  keyClientHasNoSecret: () => new AppError(400, 'invalid_request_error', 'client_uses_keys', 'This client authenticates with its keys (private_key_jwt): it has no secret to rotate.'),
  invalidLoginInput: (param: string) => new AppError(400, 'invalid_request_error', 'parameter_missing', `Missing required parameter: ${param}.`, { param }),
};
