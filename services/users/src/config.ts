import { resolve } from 'node:path';
import { varDir } from '@paymesh/platform/dev-secrets';
import { optionalStr, str } from '@paymesh/platform/config';
import { serviceConfigSpec } from '@paymesh/platform/service-config';

export const usersConfigSpec = {
  ...serviceConfigSpec('users'),
  bootstrapAdminUsername: str('BOOTSTRAP_ADMIN_USERNAME', 'Username of the admin account created on first start.', { default: 'admin' }),
  bootstrapAdminPassword: optionalStr('BOOTSTRAP_ADMIN_PASSWORD', 'Its password; unset means one is generated, printed once and stored in var/bootstrap-admin.txt.'),
  bootstrapAdminPasswordFile: str('BOOTSTRAP_ADMIN_PASSWORD_FILE', 'Where a generated admin password is stored for the developer.', { default: resolve(varDir, 'bootstrap-admin.txt'), shownDefault: '`var/bootstrap-admin.txt`' }),
  bootstrapAdminEmail: str('BOOTSTRAP_ADMIN_EMAIL', 'Its email address.', { default: 'admin@paymesh.local' }),
};
