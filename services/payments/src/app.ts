// The payments service: payments over a double-entry ledger.
import { resolve } from 'node:path';
import { createServiceServer } from '@paymesh/platform/runtime';
import { ClientCredentialsTokenSource, ServiceClient } from '@paymesh/platform/service-client';
import { defineService } from '@paymesh/platform/service-host';
import { serviceAudience } from '@paymesh/platform/service-config';
import { paymentsConfigSpec } from './config.ts';
import { useExactAmountParser } from './money/json-with-exact-amounts.ts';
import { paymentRoutes } from './payments/payment-routes.ts';
import { deleteExpiredIdempotencyKeys } from './idempotency/idempotency-key.ts';

export const paymentsService = defineService({
  name: 'payments',
  configSpec: paymentsConfigSpec,
  migrationsDir: resolve(import.meta.dirname, '../migrations'),
  async build(runtime, config) {
    const tokens = new ClientCredentialsTokenSource({ tokenUrl: `${config.authUrl}/auth/token`, clientId: config.clientId, clientSecret: config.clientSecret, scope: 'users:read', resource: serviceAudience('users') });
    const users = new ServiceClient({ baseUrl: config.usersUrl, tokens });
    const app = createServiceServer(runtime);
    useExactAmountParser(app);
    paymentRoutes(app, runtime, users, config);
    // Idempotency keys are kept 24 hours (Stripe's window), then forgotten.
    const reaper = setInterval(() => {
      deleteExpiredIdempotencyKeys(runtime.database.db).catch((error: unknown) => runtime.logger.warn({ err: error }, 'idempotency key clean-up failed'));
    }, 60 * 60_000);
    reaper.unref();
    return { app, extra: undefined, close: async () => clearInterval(reaper) };
  },
});
