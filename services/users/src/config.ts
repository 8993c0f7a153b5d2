import { optionalStr, str } from '@paymesh/platform/config';
import { serviceConfigSpec } from '@paymesh/platform/service-config';

export const usersConfigSpec = {
  ...serviceConfigSpec('users'),
  bootstrapAdminUsername: str('BOOTSTRAP_ADMIN_USERNAME', 'Username of the admin account created on first start.', { default: 'admin' }),
  bootstrapAdminPassword: optionalStr('BOOTSTRAP_ADMIN_PASSWORD', 'Its password; unset means one is generated, printed once and stored in var/bootstrap-admin.txt.'),
  bootstrapAdminEmail: str('BOOTSTRAP_ADMIN_EMAIL', 'Its email address.', { default: 'admin@paymesh.local' }),
};
