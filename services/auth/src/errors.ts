// The auth service's error catalogue.
import { AppError } from '@paymesh/platform/errors';

export const authErrors = {
  invalidCredentials: () => new AppError(401, 'authentication_error', 'invalid_credentials', 'Invalid username or password.', { legacy: { message: 'Invalid credentials' } }),
  invalidLoginInput: (param: string) => new AppError(400, 'invalid_request_error', 'parameter_missing', `Missing required parameter: ${param}.`, { param }),
};
