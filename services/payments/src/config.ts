import { int, str, url } from '@paymesh/platform/config';
import { serviceConfigSpec, servicePorts } from '@paymesh/platform/service-config';

export const paymentsConfigSpec = {
  ...serviceConfigSpec('payments'),
  usersUrl: url('USERS_URL', 'Internal base URL of the users service (payer checks).', { default: `http://127.0.0.1:${servicePorts.users}` }),
  defaultCurrency: str('PAYMENTS_DEFAULT_CURRENCY', 'Currency of a payment that names none (ISO 4217).', { default: 'USD' }),
  maxAmountMinor: int('PAYMENTS_MAX_AMOUNT_MINOR', 'Largest accepted amount, in minor units of the currency.', { default: 100_000_000, min: 1 }),
};
