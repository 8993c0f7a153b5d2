// The payments service: the payment lifecycle, refunds, saved cards and wallets over a
// double-entry ledger with two-phase transfers.
import { resolve } from 'node:path';
import type { Subscription } from '@paymesh/platform/events/event';
import { createServiceServer } from '@paymesh/platform/runtime';
import { ClientCredentialsTokenSource, ServiceClient } from '@paymesh/platform/service-client';
import { defineService } from '@paymesh/platform/service-host';
import { serviceAudience } from '@paymesh/platform/service-config';
import { paymentsConfigSpec } from './config.ts';
import { IdempotentPosts } from './idempotency/idempotent-post.ts';
import { deleteExpiredIdempotencyKeys } from './idempotency/idempotency-key.ts';
import { recordInvariantCheck } from './ledger/record-invariant-check.ts';
import { Ledger } from './ledger/ledger.ts';
import { useExactAmountParser } from './money/json-with-exact-amounts.ts';
import { Payers } from './payers/payers.ts';
import { paymentMethodRoutes } from './payment-methods/payment-method-routes.ts';
import { PaymentMetrics } from './payment-metrics.ts';
import type { PaymentsContext } from './payments-context.ts';
import { paymentRoutes } from './payments/payment-routes.ts';
import { reconcileAttempts } from './processor/reconcile-attempts.ts';
import { createCardProcessor } from './processor/card-processors.ts';
import { resumePendingRefunds } from './refunds/create-refund.ts';
import { refundRoutes } from './refunds/refund-routes.ts';
import { walletRoutes } from './wallet/wallet-routes.ts';

export const paymentsService = defineService({
  name: 'payments',
  configSpec: paymentsConfigSpec,
  migrationsDir: resolve(import.meta.dirname, '../migrations'),
  async build(runtime, config) {
    const { db } = runtime.database;
    const tokens = new ClientCredentialsTokenSource({ tokenUrl: `${config.authUrl}/auth/token`, clientId: config.clientId, clientSecret: config.clientSecret, scope: 'users:read', resource: serviceAudience('users') });
    const users = new ServiceClient({ baseUrl: config.usersUrl, tokens });
    const metrics = new PaymentMetrics(runtime.metrics.registry);
    if (config.idempotencyLeaseMs >= config.idempotencyWaitMs) {
      // A retry would give up before a dead request's lease lapses: keys of crashed requests answer 409 until it does.
      runtime.logger.warn({ leaseMs: config.idempotencyLeaseMs, waitMs: config.idempotencyWaitMs }, 'PAYMENTS_IDEMPOTENCY_LEASE_MS should be shorter than PAYMENTS_IDEMPOTENCY_WAIT_MS');
    }
    const ctx: PaymentsContext = {
      runtime,
      db,
      config,
      ledger: new Ledger(),
      processor: createCardProcessor(config.cardProcessor),
      payers: new Payers(runtime, users),
      idempotency: new IdempotentPosts({
        db, fingerprintKey: config.fingerprintKey, waitMs: config.idempotencyWaitMs, leaseMs: config.idempotencyLeaseMs,
        logger: runtime.logger, replays: metrics.replays, takeovers: metrics.takeovers,
      }),
      metrics,
    };
    const app = createServiceServer(runtime);
    useExactAmountParser(app);
    // An action such as POST /payments/:id/capture may come without a body, as with Stripe.
    app.addHook('preValidation', async (request) => {
      if (request.method === 'POST' && request.body === undefined) request.body = {};
    });
    paymentRoutes(app, ctx);
    refundRoutes(app, ctx);
    paymentMethodRoutes(app, ctx);
    walletRoutes(app, ctx);

    const timers: NodeJS.Timeout[] = [];
    const every = (seconds: number, what: string, task: () => Promise<void>) => {
      if (seconds <= 0) return;
      const timer = setInterval(() => {
        // While the database is away the task waits for its next turn after it is back.
        if (!runtime.database.available) return;
        void task().catch((error: unknown) => runtime.logger.warn({ err: error }, `${what} failed`));
      }, seconds * 1000);
      timer.unref();
      timers.push(timer);
    };
    // Idempotency keys are kept 24 hours (Stripe's window), then forgotten.
    every(3600, 'idempotency key clean-up', () => deleteExpiredIdempotencyKeys(db));
    // Refunds left pending (processor unreachable, or a crash between their phases) are finished.
    every(30, 'pending refund sweep', async () => void (await resumePendingRefunds(ctx, 30)));
    // Processor attempts whose request died and whose client did not retry in time are settled.
    every(15, 'processor attempt reconciliation', async () => void (await reconcileAttempts(ctx, config.attemptGraceSec, config.reconcileMaxTries)));
    every(config.invariantCheckIntervalSec, 'ledger invariant check', async () => void (await recordInvariantCheck(db, metrics, runtime.logger)));
    const subscriptions: Subscription[] = [];
    return {
      app,
      extra: { ctx, subscriptions },
      close: async () => {
        for (const timer of timers) clearInterval(timer);
        ctx.idempotency.leases.close();
        await Promise.all(subscriptions.map((s) => s.stop()));
      },
    };
  },
  async onStart(_runtime, _config, extra) {
    extra.subscriptions.push(...(await extra.ctx.payers.follow()));
  },
});
