// The wallet: POST /wallet/top-ups, GET /wallet (the caller's), GET /wallet/:user_id (admins,
// services, and the user themself). Paying from it is `payment_method: "wallet"` on a payment.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { paymentsErrors } from '../errors.ts';
import { requestedMethod } from '../payment-methods/payment-method.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { actingUser, amountSchema, currencySchema, paymentMethodSchema, requestAmount, requestCurrency, userIdSchema } from '../request-schemas.ts';
import { topUpWallet } from './top-up.ts';
import { walletOf } from './wallet-balance.ts';
import { numericIdSchema } from '@paymesh/platform/ids';

export function walletRoutes(app: HttpServer, ctx: PaymentsContext): void {
  protectedRoutes(app, ctx.runtime.verify, (scope) => {
    scope.post('/wallet/top-ups', {
      config: { scope: 'payments:write' },
      schema: {
        body: Type.Object({
          amount: amountSchema,
          currency: Type.Optional(currencySchema),
          payment_method: paymentMethodSchema,
          user_id: Type.Optional(userIdSchema),
        }, { additionalProperties: false }),
      },
    }, async (request, reply) => {
      const { caller, body } = request;
      const key = ctx.idempotency.key(request);
      const userId = actingUser(caller, body.user_id);
      const currency = requestCurrency(ctx.config, body.currency);
      const amountMinor = requestAmount(ctx.config, body.amount, currency);
      const method = await requestedMethod(ctx.db, body.payment_method, userId);
      if (method.kind === 'wallet') throw paymentsErrors.paymentMethodUnusable();
      await ctx.payers.assertMayPay(userId);
      return ctx.idempotency.run(request, reply, key, (hold, store) => topUpWallet(ctx, { userId, amountMinor, currency, method, createdBy: `${caller.kind}:${caller.subject}` }, hold, store));
    });

    scope.get('/wallet', { config: { scope: 'payments:read' } }, async (request) => {
      return walletOf(ctx.db, localUserId(request.caller));
    });

    scope.get('/wallet/:user_id', { config: { scope: 'payments:read' }, schema: { params: Type.Object({ user_id: numericIdSchema }) } }, async (request) => {
      // Another user's wallet is as absent as an unknown user.
      if (!mayActFor(request.caller, request.params.user_id)) throw paymentsErrors.userNotFound();
      return walletOf(ctx.db, request.params.user_id);
    });
  });
}
