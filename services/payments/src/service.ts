// The payments service: the payment lifecycle, refunds, saved cards and wallets over a
// double-entry ledger with two-phase transfers.
import { resolve } from 'node:path';
import { commitGroup } from '@paymesh/platform/db/commit-group';
import { ClientCredentialsTokenSource, ServiceClient } from '@paymesh/platform/service-client';
import { defineService } from '@paymesh/platform/service-declaration';
import { serviceAudience } from '@paymesh/platform/service-config';
import { paymentsConfigSpec } from './config.ts';
import { IdempotentPosts } from './idempotency/idempotent-post.ts';
import { deleteExpiredIdempotencyKeys, idempotencyKeyDocumented } from './idempotency/idempotency-key.ts';
import { LastInvariantCheck } from './ledger/last-invariant-check.ts';
import { ledgerRoutes } from './ledger/ledger-routes.ts';
import { Ledger } from './ledger/ledger.ts';
import { useExactAmountParser } from './money/json-with-exact-amounts.ts';
import { Payers } from './payers/payers.ts';
import * as paymentEvents from './events.ts';
import { paymentMethodRoutes } from './payment-methods/payment-method-routes.ts';
import { PaymentMetrics } from './payment-metrics.ts';
import type { PaymentsContext } from './payments-context.ts';
import { paymentRoutes } from './payments/payment-routes.ts';
import { reconcileAttempts } from './payments/reconcile-attempts.ts';
import { createCardProcessor } from './processor/card-processors.ts';
import { resumePendingRefunds } from './refunds/create-refund.ts';
import { refundRoutes } from './refunds/refund-routes.ts';
import { walletRoutes } from './wallet/wallet-routes.ts';
import { apiExamplesIn } from '@paymesh/platform/openapi/api-examples';

export const paymentsService = defineService({
  name: 'payments',
  api: {
    examples: apiExamplesIn(import.meta.dirname),
    title: 'Paymesh payments',
    description: 'Payments with Stripe\'s semantics over a double-entry ledger: payments, refunds, saved cards and wallets.',
    tags: [
      { name: 'Payments', description: 'Create, confirm, capture and cancel payments.', prefix: '/payments' },
      { name: 'Refunds', description: 'Full and partial refunds of a payment.', prefix: '/payments/:id/refunds' },
      { name: 'Payment methods', description: 'Saved cards.', prefix: '/payment_methods' },
      { name: 'Wallet', description: 'A user\'s balance and its top-ups.', prefix: '/wallet' },
    ],
    everyPost: idempotencyKeyDocumented,
    operationIds: {
      'GET /wallet/:user_id': 'getUserWallet',
      'POST /wallet/top-ups': 'createWalletTopUp',
    },
  },
  config: paymentsConfigSpec,
  migrations: resolve(import.meta.dirname, '../migrations'),

  async context(runtime, config): Promise<PaymentsContext> {
    const { db } = runtime.database;
    const tokens = new ClientCredentialsTokenSource({ tokenUrl: `${config.authUrl}/auth/token`, clientId: config.clientId, clientSecret: config.clientSecret, scope: 'users:read', resource: serviceAudience('users') });
    const users = new ServiceClient({ baseUrl: config.usersUrl, tokens });
    const metrics = new PaymentMetrics(runtime.metrics.registry);
    if (config.idempotencyLeaseMs >= config.idempotencyWaitMs) {
      // A retry would give up before a dead request's lease lapses: keys of crashed requests answer 409 until it does.
      runtime.logger.warn({ leaseMs: config.idempotencyLeaseMs, waitMs: config.idempotencyWaitMs }, 'PAYMENTS_IDEMPOTENCY_LEASE_MS should be shorter than PAYMENTS_IDEMPOTENCY_WAIT_MS');
    }
    return {
      runtime,
      db,
      config,
      // One payment per transaction, when so configured, runs as before: concurrently, no group.
      paymentCommits: config.commitGroup > 1 ? commitGroup(db, { maxSize: config.commitGroup }) : { run: (work) => db.transaction(work) },
      ledger: new Ledger(),
      processor: createCardProcessor(config.cardProcessor),
      payers: new Payers(runtime, users),
      idempotency: new IdempotentPosts({
        db, fingerprintKey: config.fingerprintKey, waitMs: config.idempotencyWaitMs, leaseMs: config.idempotencyLeaseMs,
        logger: runtime.logger, replays: metrics.replays, takeovers: metrics.takeovers,
      }),
      metrics,
      invariants: new LastInvariantCheck(db, metrics, runtime.logger, runtime.clock),
    };
  },

  routes(app, ctx) {
    useExactAmountParser(app);
    // An action such as POST /payments/:id/capture may come without a body, as with Stripe.
    app.addHook('preValidation', async (request) => {
      if (request.method === 'POST' && request.body === undefined) request.body = {};
    });
    paymentRoutes(app, ctx);
    refundRoutes(app, ctx);
    paymentMethodRoutes(app, ctx);
    walletRoutes(app, ctx);
    ledgerRoutes(app, ctx);
  },

  // Every contract in events.ts: payment.*, refund.*, wallet.topped_up.
  publishes: Object.values(paymentEvents),

  // Who may pay: user.registered, user.enabled, user.disabled, user.deleted (payers/payers.ts).
  consumes: (ctx) => ctx.payers.consumers(),

  jobs: [
    // Idempotency keys are kept 24 hours (Stripe's window), then forgotten.
    { name: 'idempotency key clean-up', everyMs: 3_600_000, run: (ctx) => deleteExpiredIdempotencyKeys(ctx.db) },
    // Refunds left pending (processor unreachable, or a crash between their phases) are finished.
    { name: 'pending refund sweep', everyMs: 30_000, run: async (ctx) => void (await resumePendingRefunds(ctx, 30)) },
    // Processor attempts whose request died and whose client did not retry in time are settled.
    { name: 'processor attempt reconciliation', everyMs: 15_000, run: async (ctx) => void (await reconcileAttempts(ctx, ctx.config.attemptGraceSec, ctx.config.reconcileMaxTries)) },
    { name: 'ledger invariant check', everyMs: (ctx) => ctx.config.invariantCheckIntervalSec * 1000, run: async (ctx) => void (await ctx.invariants.run()) },
  ],

  async stop(ctx) {
    ctx.idempotency.leases.close();
  },
});
