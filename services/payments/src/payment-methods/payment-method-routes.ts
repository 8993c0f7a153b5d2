// Saved payment methods: POST /payment_methods (a card, tokenised; the number and CVC go to the
// processor and nowhere else), GET /payment_methods, GET and DELETE /payment_methods/:id.
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes, requireScope } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { paymentsErrors } from '../errors.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { actingUser, cardSchema, objectIdParams, userIdSchema } from '../request-schemas.ts';
import { checkCardDetails } from './card-details.ts';
import { cardMethod, insertPaymentMethod, publicPaymentMethod } from './payment-method.ts';
import { detachMethod, findSavedMethod, savedMethodsOf } from './payment-method-store.ts';

export function paymentMethodRoutes(app: HttpServer, ctx: PaymentsContext): void {
  const findOwned = async (id: string, caller: Parameters<typeof mayActFor>[0]) => {
    const row = await findSavedMethod(ctx.db, id);
    if (row === undefined || !mayActFor(caller, row.user_id)) throw paymentsErrors.paymentMethodNotFound();
    return row;
  };

  protectedRoutes(app, ctx.runtime.verify, (scope) => {
    scope.post('/payment_methods', {
      schema: { body: Type.Object({ type: Type.Optional(Type.Literal('card')), card: cardSchema, user_id: Type.Optional(userIdSchema) }, { additionalProperties: false }) },
    }, async (request, reply) => {
      const { caller, body } = request;
      requireScope(caller, 'payments:write');
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
      schema: { querystring: Type.Object({ user_id: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$' })) }, { additionalProperties: false }) },
    }, async (request) => {
      const { caller } = request;
      requireScope(caller, 'payments:read');
      const privileged = isAdmin(caller) || caller.kind === 'service';
      const userId = privileged && request.query.user_id !== undefined ? request.query.user_id : localUserId(caller);
      const page = await savedMethodsOf(ctx.db, userId, 100);
      return { object: 'list', data: page.rows.map(publicPaymentMethod), has_more: page.hasMore };
    });

    scope.get('/payment_methods/:id', { schema: { params: objectIdParams } }, async (request) => {
      requireScope(request.caller, 'payments:read');
      return publicPaymentMethod(await findOwned(request.params.id, request.caller));
    });

    scope.delete('/payment_methods/:id', { schema: { params: objectIdParams } }, async (request) => {
      requireScope(request.caller, 'payments:write');
      const row = await findOwned(request.params.id, request.caller);
      await detachMethod(ctx.db, row.id);
      return { id: row.id, object: 'payment_method', deleted: true };
    });
  });
}
