// The wallet: POST /wallet/top-ups, GET /wallet (the caller's), GET /wallet/:user_id (admins,
// services, and the user themself). Paying from it is `payment_method: "wallet"` on a payment.
import { Type } from '@fastify/type-provider-typebox';
import { localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import { paymentsErrors } from '../errors.ts';
import { requestedMethod } from '../payment-methods/payment-method.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { actingUser, amountSchema, currencySchema, paymentMethodSchema, requestAmount, requestCurrency, userIdSchema } from '../request-schemas.ts';
import { topUpSchema, topUpWallet } from './top-up.ts';
import { walletOf, walletSchema } from './wallet-balance.ts';
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
        response: {
          200: topUpSchema,
          400: errorAnswer('A parameter is missing or not valid (parameter_missing, parameter_unknown, parameter_invalid, amount_invalid, currency_invalid), the method is the wallet itself (payment_method_unusable), or the Idempotency-Key is (idempotency_key_invalid, idempotency_key_reused).'),
          402: errorAnswer('The card was declined (card_error: card_declined, expired_card, incorrect_cvc, processing_error … with decline_code), needs 3-D Secure, which top-ups do not support (authentication_required), or its details are not valid (incorrect_number, invalid_expiry_month, invalid_expiry_year, invalid_cvc). Nothing was charged or credited.'),
          403: errorAnswer('The token lacks the scope payments:write (insufficient_scope), `user_id` is another user\'s and the caller is not an admin or a service (forbidden), or the user is disabled (user_disabled).'),
          404: errorAnswer('No such user (user_not_found), or no such saved payment method of this user (payment_method_not_found).'),
          503: errorAnswer('The card processor or the users service is unavailable (processor_unavailable, service_unavailable): nothing was charged; retry.'),
        },
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

    scope.get('/wallet', {
      config: { scope: 'payments:read' },
      schema: { response: { 200: walletSchema, 403: errorAnswer('The token lacks the scope payments:read (insufficient_scope), or is not a Paymesh user\'s (forbidden): a service asks for GET /wallet/{user_id}.') } },
    }, async (request) => {
      return walletOf(ctx.db, localUserId(request.caller));
    });

    scope.get('/wallet/:user_id', {
      config: { scope: 'payments:read' },
      schema: { params: Type.Object({ user_id: numericIdSchema }), response: {
        200: walletSchema,
        404: errorAnswer('No such user (user_not_found); another user\'s wallet, for a caller who is not an admin or a service, is as absent.'),
        503: errorAnswer('The wallet is empty and payments has not heard of the user yet, and the users service could not be asked whether they exist (service_unavailable): retry.'),
      } },
    }, async (request) => {
      // Another user's wallet is as absent as an unknown user.
      if (!mayActFor(request.caller, request.params.user_id)) throw paymentsErrors.userNotFound();
      const wallet = await walletOf(ctx.db, request.params.user_id);
      // An empty wallet is either a user's who never had money here or nobody's: tell them apart.
      if (wallet.balances.length === 0) await ctx.payers.assertKnown(request.params.user_id);
      return wallet;
    });
  });
}
