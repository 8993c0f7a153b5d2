// The users service's error catalogue: stable codes, client messages.
import { AppError } from '@paymesh/platform/errors';

export const usersErrors = {
  userNotFound: () => new AppError(404, 'invalid_request_error', 'user_not_found', 'No such user.', { legacy: { success: false, message: 'User not found' } }),
  // Only usernames: a taken email address is never revealed (registration answers as if it worked
  // and tells the address's owner instead).
  identityTaken: () => new AppError(409, 'invalid_request_error', 'identity_taken', 'That username is already taken.', { param: 'username', legacy: { success: false, message: 'Username already taken' } }),
  emailTaken: () => new AppError(409, 'invalid_request_error', 'email_taken', 'That email address belongs to another account.', { param: 'email' }),
  invalidInput: (param: string, message: string) => new AppError(400, 'invalid_request_error', 'parameter_invalid', message, { param, legacy: { success: false, message: 'Invalid input' } }),
  // Every stored login name is NFC, the form keyboards produce: a decomposed one would be a second
  // spelling of a name (packages/platform/src/login-key.ts).
  loginNotNormalized: (param: string) => new AppError(400, 'invalid_request_error', 'login_not_normalized', `The ${param} must be in Unicode NFC (composed) form.`, { param, legacy: { success: false, message: 'Invalid input' } }),
  missingInput: (param: string) => new AppError(400, 'invalid_request_error', 'parameter_missing', `Missing required parameter: ${param}.`, { param, legacy: { success: false, message: 'Invalid input' } }),
  passwordTooCommon: (param: string) => new AppError(400, 'invalid_request_error', 'password_too_common', 'That password is among the most common ones (or is the username): attackers try those first. Choose another.', { param, legacy: { success: false, message: 'Invalid input' } }),
  invalidCredentials: () => new AppError(401, 'authentication_error', 'invalid_credentials', 'Invalid username or password.'),
  currentPasswordWrong: () => new AppError(400, 'invalid_request_error', 'current_password_invalid', 'The current password is not right.', { param: 'current_password' }),
  tokenInvalid: () => new AppError(400, 'invalid_request_error', 'token_invalid', 'This link is invalid, expired or already used. Ask for a new one.', { param: 'token' }),
  ownAccess: () => new AppError(400, 'invalid_request_error', 'own_access', 'Admins cannot disable their own account or take away their own admin role (another admin can).'),
  lastAdmin: () => new AppError(400, 'invalid_request_error', 'last_admin', 'This is the platform\'s last active admin: make another user admin before deleting this account.'),
  // Registration and the routes that check a current password are throttled before any argon2 work
  // (docs/adr/0010-account-abuse.md): Retry-After says when the busiest limit has room again.
  tooManyRegistrations: (retryAfterSec: number) => new AppError(429, 'rate_limit_error', 'registration_rate_limited', 'Too many registrations from this network or for this mailbox; try again later.', { headers: { 'retry-after': String(retryAfterSec) }, legacy: { success: false, message: 'Too many requests' } }),
  tooManyPasswordChecks: (retryAfterSec: number) => new AppError(429, 'rate_limit_error', 'password_check_rate_limited', 'Too many requests that check a password for this account or from this network; try again later.', { headers: { 'retry-after': String(retryAfterSec) } }),
  // Every slot for heavy work (hashing, strength estimates) is taken and its queue is full.
  busy: () => new AppError(503, 'api_error', 'service_busy', 'The service is busy; retry in a moment.', { headers: { 'retry-after': '1' }, legacy: { success: false, message: 'Service busy' } }),
  // The policy's reasons go with the refusal, so a person knows what to change.
  passwordTooWeak: (param: string, reasons: readonly string[]) => new AppError(400, 'invalid_request_error', 'password_too_weak', `That password is too easy to guess. ${reasons.join(' ')}`, { param, details: { reasons }, legacy: { success: false, message: 'Invalid input' } }),
  tooManyChecks: (retryAfterSec = 60) => new AppError(429, 'rate_limit_error', 'rate_limited', 'Too many credential checks for this login; slow down.', { headers: { 'retry-after': String(retryAfterSec) } }),
  invalidCursor: () => new AppError(400, 'invalid_request_error', 'parameter_invalid', 'starting_after is not a user id.', { param: 'starting_after' }),
};
