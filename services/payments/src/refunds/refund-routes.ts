// POST /payments/:id/refunds (admins and services: refunding is the merchant's decision) and
// GET /payments/:id/refunds (the payer too).
import { Type } from '@fastify/type-provider-typebox';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { paymentsErrors } from '../errors.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { findPayment } from '../payments/payment-store.ts';
import { amountSchema, requestAmount } from '../request-schemas.ts';
import { createRefund } from './create-refund.ts';
import { publicRefund, refundReasons } from './refund.ts';
import { refundsOf } from './refund-store.ts';
import { objectIdParams } from '@paymesh/platform/ids';
import { listOf } from '@paymesh/platform/pagination';

export function refundRoutes(app: HttpServer, ctx: PaymentsContext): void {
  protectedRoutes(app, ctx.runtime.verify, (scope) => {
    scope.post('/payments/:id/refunds', {
      config: { callers: ['admin', 'service'], scope: 'payments:write' },
      schema: {
        params: objectIdParams,
        body: Type.Object({
          amount: Type.Optional(amountSchema),
          reason: Type.Optional(Type.Union(refundReasons.map((r) => Type.Literal(r)))),
        }, { additionalProperties: false }),
      },
    }, async (request, reply) => {
      const { caller } = request;
      const key = ctx.idempotency.key(request);
      const payment = await findPayment(ctx.db, request.params.id);
      if (payment === undefined) throw paymentsErrors.paymentNotFound();
      const raw = request.body.amount;
      const amount = raw === undefined ? undefined : requestAmount(ctx.config, raw, payment.currency.trim());
      return ctx.idempotency.run(request, reply, key, (hold, store) => createRefund(ctx, caller, payment.id, amount, request.body.reason, hold, store));
    });

    scope.get('/payments/:id/refunds', { config: { scope: 'payments:read' }, schema: { params: objectIdParams } }, async (request) => {
      const payment = await findPayment(ctx.db, request.params.id);
      if (payment === undefined || !mayActFor(request.caller, payment.user_id)) throw paymentsErrors.paymentNotFound();
      const rows = await refundsOf(ctx.db, payment.id);
      return listOf(rows.map(publicRefund), false);
    });
  });
}
