// POST /payments/:id/refunds (admins and services: refunding is the merchant's decision) and
// GET /payments/:id/refunds (the payer too).
import { Type } from '@fastify/type-provider-typebox';
import { mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import { errorCarrying } from '../error-carrying.ts';
import { paymentsErrors } from '../errors.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { findPayment } from '../payments/payment-store.ts';
import { amountSchema, requestAmount } from '../request-schemas.ts';
import { literalUnion } from '@paymesh/platform/literal-union';
import { createRefund } from './create-refund.ts';
import { publicRefund, refundReasons, refundSchema } from './refund.ts';
import { refundsOf } from './refund-store.ts';
import { objectIdParams, objectIdSchema } from '@paymesh/platform/ids';
import { listOf, listSchema, pageLimit, pageQuery } from '@paymesh/platform/pagination';

/** createRefund's 402: the processor refused the refund, which is kept as failed. */
const refundFailedAnswer = errorCarrying(
  { refund: refundSchema },
  'The processor refused the refund (refund_failed): `error.refund` is the refund, failed with its failure_reason; its amount can be refunded again.',
);

export function refundRoutes(app: HttpServer, ctx: PaymentsContext): void {
  protectedRoutes(app, ctx.runtime.verify, (scope) => {
    scope.post('/payments/:id/refunds', {
      config: { callers: ['admin', 'service'], scope: 'payments:write' },
      schema: {
        params: objectIdParams,
        body: Type.Object({
          amount: Type.Optional(amountSchema),
          reason: Type.Optional(literalUnion(refundReasons)),
        }, { additionalProperties: false }),
        response: {
          200: refundSchema,
          400: errorAnswer('The payment has not succeeded (payment_unexpected_state), is already refunded in full (charge_already_refunded), the amount is more than is left to refund (amount_too_large) or not valid (amount_invalid, parameter_invalid, parameter_unknown), or the Idempotency-Key is (idempotency_key_invalid, idempotency_key_reused).'),
          402: refundFailedAnswer,
          403: errorAnswer('The token lacks the scope payments:write (insufficient_scope), or the caller is not an admin or a service (forbidden): refunding is the merchant\'s decision.'),
          404: errorAnswer('No such payment (payment_not_found).'),
        },
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

    scope.get('/payments/:id/refunds', {
      config: { scope: 'payments:read' },
      schema: {
        params: objectIdParams,
        querystring: Type.Object(pageQuery(objectIdSchema), { additionalProperties: false }),
        response: {
          200: listSchema(refundSchema, 'A page of the payment\'s refunds, newest first (pagination: `limit`, 100 unless given, and `starting_after`).'),
          400: errorAnswer('A parameter is not valid (limit 1 to 100), or starting_after is not a refund of this payment (parameter_invalid).'),
          404: errorAnswer('No such payment (payment_not_found); another user\'s is as absent.'),
        },
      },
    }, async (request) => {
      const payment = await findPayment(ctx.db, request.params.id);
      if (payment === undefined || !mayActFor(request.caller, payment.user_id)) throw paymentsErrors.paymentNotFound();
      // 100 unless asked: a payment's refunds fit one page for every caller written before paging.
      const page = await refundsOf(ctx.db, payment.id, pageLimit(request.query.limit, 100), request.query.starting_after);
      return listOf(page.rows.map(publicRefund), page.hasMore);
    });
  });
}
