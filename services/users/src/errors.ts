// The users service's error catalogue: stable codes, client messages.
import { AppError } from '@paymesh/platform/errors';

export const usersErrors = {
  userNotFound: () => new AppError(404, 'invalid_request_error', 'user_not_found', 'No such user.', { legacy: { success: false, message: 'User not found' } }),
  identityTaken: () => new AppError(409, 'invalid_request_error', 'identity_taken', 'That username or email address is already registered.', { legacy: { success: false, message: 'Username or email already registered' } }),
  invalidInput: (param: string, message: string) => new AppError(400, 'invalid_request_error', 'parameter_invalid', message, { param, legacy: { success: false, message: 'Invalid input' } }),
  missingInput: (param: string) => new AppError(400, 'invalid_request_error', 'parameter_missing', `Missing required parameter: ${param}.`, { param, legacy: { success: false, message: 'Invalid input' } }),
  invalidCredentials: () => new AppError(401, 'authentication_error', 'invalid_credentials', 'Invalid username or password.'),
};
