import { resolve } from 'node:path';
import { varDir } from '@paymesh/platform/dev-secrets';
import { int, optionalStr, str, url } from '@paymesh/platform/config';
import { serviceConfigSpec, servicePorts } from '@paymesh/platform/service-config';

export const usersConfigSpec = {
  ...serviceConfigSpec('users'),
  bootstrapAdminUsername: str('BOOTSTRAP_ADMIN_USERNAME', 'Username of the admin account created on first start.', { default: 'admin' }),
  bootstrapAdminPassword: optionalStr('BOOTSTRAP_ADMIN_PASSWORD', 'Its password (the password rules apply: at least 8 characters, not a common one); unset means one is generated, printed once and stored in var/bootstrap-admin.txt.'),
  bootstrapAdminPasswordFile: str('BOOTSTRAP_ADMIN_PASSWORD_FILE', 'Where a generated admin password is stored for the developer.', { default: resolve(varDir, 'bootstrap-admin.txt'), shownDefault: '`var/bootstrap-admin.txt`' }),
  bootstrapAdminEmail: str('BOOTSTRAP_ADMIN_EMAIL', 'Its email address (taken as verified).', { default: 'admin@paymesh.local' }),
  publicUrl: url('PUBLIC_URL', 'The public origin clients use: the links in verification and password-reset emails start with it.', { default: `http://localhost:${servicePorts.gateway}` }),
  verifyEmailTtlSec: int('USERS_VERIFY_EMAIL_TTL_SECONDS', 'How long an email verification link works.', { default: 48 * 3600, min: 300, max: 30 * 86_400 }),
  credentialChecksPerMinute: int('USERS_CREDENTIAL_CHECKS_PER_MINUTE', 'Internal credential checks allowed per login name per minute on each replica (auth also throttles logins); beyond, 429.', { default: 30, min: 1 }),
};
