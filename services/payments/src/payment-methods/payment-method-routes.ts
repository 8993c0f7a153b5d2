// Saved payment methods: POST /payment_methods (a card, tokenised; the number and CVC go to the
// processor and nowhere else), GET /payment_methods, GET and DELETE /payment_methods/:id.
import { Type } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { paymentsErrors } from '../errors.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { actingUser, cardSchema, userIdSchema } from '../request-schemas.ts';
import { checkCardDetails } from '../processor/card-details.ts';
import { cardMethod, insertPaymentMethod, publicPaymentMethod } from './payment-method.ts';
import { detachMethod, findSavedMethod, savedMethodsOf } from './payment-method-store.ts';
import { numericIdSchema, objectIdParams } from '@paymesh/platform/ids';
import { listOf } from '@paymesh/platform/pagination';

export function paymentMethodRoutes(app: HttpServer, ctx: PaymentsContext): void {
  const findOwned = async (id: string, caller: Parameters<typeof mayActFor>[0]) => {
    const row = await findSavedMethod(ctx.db, id);
    if (row === undefined || !mayActFor(caller, row.user_id)) throw paymentsErrors.paymentMethodNotFound();
    return row;
  };

  protectedRoutes(app, ctx.runtime.verify, (scope) => {
    scope.post('/payment_methods', {
      config: { scope: 'payments:write' },
      schema: { body: Type.Object({ type: Type.Optional(Type.Literal('card')), card: cardSchema, user_id: Type.Optional(userIdSchema) }, { additionalProperties: false }) },
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
      schema: { querystring: Type.Object({ user_id: Type.Optional(numericIdSchema) }, { additionalProperties: false }) },
    }, async (request) => {
      const { caller } = request;
      const privileged = isAdmin(caller) || caller.kind === 'service';
      const userId = privileged && request.query.user_id !== undefined ? request.query.user_id : localUserId(caller);
      const page = await savedMethodsOf(ctx.db, userId, 100);
      return listOf(page.rows.map(publicPaymentMethod), page.hasMore);
    });

    scope.get('/payment_methods/:id', { config: { scope: 'payments:read' }, schema: { params: objectIdParams } }, async (request) => {
      return publicPaymentMethod(await findOwned(request.params.id, request.caller));
    });

    scope.delete('/payment_methods/:id', { config: { scope: 'payments:write' }, schema: { params: objectIdParams } }, async (request) => {
      const row = await findOwned(request.params.id, request.caller);
      await detachMethod(ctx.db, row.id);
      return { id: row.id, object: 'payment_method', deleted: true };
    });
  });
}
