import { resolve } from 'node:path';
import { varDir } from '@paymesh/platform/dev-secrets';
import { duration, int, optionalStr, str, url } from '@paymesh/platform/config';
import { serviceConfigSpec, servicePorts } from '@paymesh/platform/service-config';

export const usersConfigSpec = {
  ...serviceConfigSpec('users'),
  bootstrapAdminUsername: str('BOOTSTRAP_ADMIN_USERNAME', 'Username of the admin account created on first start.', { default: 'admin' }),
  bootstrapAdminPassword: optionalStr('BOOTSTRAP_ADMIN_PASSWORD', 'Its password (the password rules apply: at least 8 characters, not a common one); unset means one is generated, printed once and stored in var/bootstrap-admin.txt.'),
  bootstrapAdminPasswordFile: str('BOOTSTRAP_ADMIN_PASSWORD_FILE', 'Where a generated admin password is stored for the developer.', { default: resolve(varDir, 'bootstrap-admin.txt'), shownDefault: '`var/bootstrap-admin.txt`' }),
  bootstrapAdminEmail: str('BOOTSTRAP_ADMIN_EMAIL', 'Its email address (taken as verified).', { default: 'admin@paymesh.local' }),
  publicUrl: url('PUBLIC_URL', 'The public origin clients use: the links in verification and password-reset emails start with it.', { default: `http://localhost:${servicePorts.gateway}` }),
  verifyEmailTtlSec: duration('USERS_VERIFY_EMAIL_TTL_SECONDS', 'How long an email verification link works.', { unit: 's', default: 48 * 3600, min: 300, max: 30 * 86_400 }),
  credentialChecksPerMinute: int('USERS_CREDENTIAL_CHECKS_PER_MINUTE', 'Internal credential checks allowed per login name per minute over every replica (auth also throttles logins); beyond, 429.', { default: 30, min: 1 }),
  registrationsPerClientPerHour: int('USERS_REGISTRATIONS_PER_CLIENT_PER_HOUR', 'Registrations one client address may attempt per hour over every replica (checked before any password hashing); beyond, 429 with Retry-After.', { default: 20, min: 1 }),
  registrationsPerMailboxPerHour: int('USERS_REGISTRATIONS_PER_MAILBOX_PER_HOUR', 'Registrations per hour over every replica for one mailbox (lower case, `+tag` removed, dots ignored at Gmail); beyond, 429 with Retry-After.', { default: 3, min: 1 }),
  verificationEmailsPerMailboxPerHour: int('USERS_VERIFICATION_EMAILS_PER_MAILBOX_PER_HOUR', 'Verification links sent to one mailbox per hour, over every account (registrations, resends, email changes); beyond, none is sent.', { default: 5, min: 1 }),
  passwordChecksPerUserPerHour: int('USERS_PASSWORD_CHECKS_PER_USER_PER_HOUR', 'Requests checking a current password (email change, password change) one account may make per hour over every replica; beyond, 429 with Retry-After.', { default: 20, min: 1 }),
  passwordChecksPerClientPerHour: int('USERS_PASSWORD_CHECKS_PER_CLIENT_PER_HOUR', 'Requests checking a current password one client address may make per hour over every replica; beyond, 429 with Retry-After.', { default: 60, min: 1 }),
  hashingConcurrency: int('USERS_HASHING_CONCURRENCY', 'Registrations, password changes and current-password checks hashing at once on each replica (logins are not counted): they cannot slow logins down.', { default: 1, min: 1, max: 64 }),
  hashingQueue: int('USERS_HASHING_QUEUE', 'Such requests waiting for a hashing slot on each replica; beyond, 503 with Retry-After.', { default: 64, min: 0 }),
};
