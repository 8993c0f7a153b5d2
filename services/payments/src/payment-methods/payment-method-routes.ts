// Saved payment methods: POST /payment_methods (a card, tokenised; the number and CVC go to the
// processor and nowhere else), GET /payment_methods, GET and DELETE /payment_methods/:id.
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import { paymentsErrors } from '../errors.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { actingUser, assertOwnListFilter, cardSchema, userIdSchema } from '../request-schemas.ts';
import { checkCardDetails } from '../processor/card-details.ts';
import { cardMethod, deletedPaymentMethodSchema, insertPaymentMethod, publicPaymentMethod, savedPaymentMethodSchema } from './payment-method.ts';
import { detachMethod, findSavedMethod, savedMethodsOf } from './payment-method-store.ts';
import { numericIdSchema, objectIdParams, objectIdSchema } from '@paymesh/platform/ids';
import { listOf, listSchema, pageLimit, pageQuery } from '@paymesh/platform/pagination';

const notFound = errorAnswer('No such payment method (payment_method_not_found); another user\'s, or a deleted one, is as absent.');

export function paymentMethodRoutes(app: HttpServer, ctx: PaymentsContext): void {
  const findOwned = async (id: string, caller: Parameters<typeof mayActFor>[0]) => {
    const row = await findSavedMethod(ctx.db, id);
    if (row === undefined || !mayActFor(caller, row.user_id)) throw paymentsErrors.paymentMethodNotFound();
    return row;
  };

  protectedRoutes(app, ctx.runtime.verify, (scope) => {
    scope.post('/payment_methods', {
      config: { scope: 'payments:write' },
      schema: {
        body: Type.Object({ type: Type.Optional(Type.Literal('card')), card: cardSchema, user_id: Type.Optional(userIdSchema) }, { additionalProperties: false }),
        response: {
          200: savedPaymentMethodSchema,
          400: errorAnswer('A parameter is missing or not valid (parameter_missing, parameter_unknown, parameter_invalid), or the Idempotency-Key is (idempotency_key_invalid, idempotency_key_reused).'),
          402: errorAnswer('The card details are not valid (card_error: incorrect_number, invalid_expiry_month, invalid_expiry_year, invalid_cvc; `param` names the field).'),
          403: errorAnswer('The token lacks the scope payments:write (insufficient_scope), `user_id` is another user\'s and the caller is not an admin or a service (forbidden), or the user is disabled (user_disabled).'),
          404: errorAnswer('No such user (user_not_found).'),
          503: errorAnswer('The card processor or the users service is unavailable (processor_unavailable, service_unavailable): nothing was saved; retry.'),
        },
      },
    }, async (request, reply) => {
      const { caller, body } = request;
      const key = ctx.idempotency.key(request);
      const userId = actingUser(caller, body.user_id);
      const card = checkCardDetails(body.card);
      await ctx.payers.assertMayPay(userId);
      return ctx.idempotency.run(request, reply, key, async (_hold, store) => {
        const method = await cardMethod(ctx.processor, { kind: 'card', card }, userId, ctx.config.fingerprintKey, true);
        return ctx.db.transaction(async (tx) => {
          const row = await insertPaymentMethod(tx, method);
          const outcome = { status: 200, body: JSON.stringify(publicPaymentMethod(row!)) };
          await store(tx, outcome);
          return outcome;
        });
      });
    });

    scope.get('/payment_methods', {
      config: { scope: 'payments:read' },
      schema: {
        // Up to 100 by default (a person's cards fit in one page; the dashboard reads them at once).
        querystring: Type.Object({ ...pageQuery(objectIdSchema), user_id: Type.Optional(numericIdSchema) }, { additionalProperties: false }),
        response: {
          200: listSchema(savedPaymentMethodSchema, 'A page of the saved cards, newest first (pagination: `limit`, 100 unless given, and `starting_after`).'),
          400: errorAnswer('A parameter is not valid (limit 1 to 100), or starting_after is not a payment method of this list (parameter_invalid).'),
          403: errorAnswer('The token lacks the scope payments:read (insufficient_scope), or is not a Paymesh user\'s and names no user_id, or a user\'s names another user in user_id (forbidden).'),
        },
      },
    }, async (request) => {
      const { caller } = request;
      const privileged = isAdmin(caller) || caller.kind === 'service';
      const userId = privileged && request.query.user_id !== undefined ? request.query.user_id : localUserId(caller);
      assertOwnListFilter(caller, request.query.user_id, 'payment methods');
      const page = await savedMethodsOf(ctx.db, userId, pageLimit(request.query.limit, 100), request.query.starting_after);
      return listOf(page.rows.map(publicPaymentMethod), page.hasMore);
    });

    scope.get('/payment_methods/:id', { config: { scope: 'payments:read' }, schema: { params: objectIdParams, response: { 200: savedPaymentMethodSchema, 404: notFound } } }, async (request) => {
      return publicPaymentMethod(await findOwned(request.params.id, request.caller));
    });

    scope.delete('/payment_methods/:id', { config: { scope: 'payments:write' }, schema: { params: objectIdParams, response: { 200: deletedPaymentMethodSchema, 404: notFound } } }, async (request) => {
      const row = await findOwned(request.params.id, request.caller);
      await detachMethod(ctx.db, row.id);
      return { id: row.id, object: 'payment_method' as const, deleted: true as const };
    });
  });
}
