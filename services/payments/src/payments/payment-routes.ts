// Payments: POST /payments (the contract; creates and, by default, confirms), GET /payments/:id,
// GET /payments, and the lifecycle actions confirm, capture and cancel. Every POST runs under
// Idempotency-Key; validation happens before it, so a request that failed validation stores nothing.
import { Type, type Static } from '@fastify/type-provider-typebox';
import { isAdmin, localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import { errorCarrying } from '../error-carrying.ts';
import { literalUnion } from '@paymesh/platform/literal-union';
import { paymentsErrors } from '../errors.ts';
import type { Outcome } from '../idempotency/idempotent-post.ts';
import { formatAmount } from '../money/parse-amount.ts';
import { requestedMethod, type RequestedMethod } from '../payment-methods/payment-method.ts';
import type { PaymentsContext } from '../payments-context.ts';
import { actingUser, amountSchema, assertOwnListFilter, currencySchema, paymentMethodSchema, requestAmount, requestCurrency, userIdSchema } from '../request-schemas.ts';
import { cancelPayment } from './cancel-payment.ts';
import { capturePayment } from './capture-payment.ts';
import { confirmPayment } from './confirm-payment.ts';
import { createPayment } from './create-payment.ts';
import { listPayments } from './list-payments.ts';
import { cancellationReasons, paymentSchema, publicPayment, type PaymentRow } from './payment.ts';
import { paymentStatuses } from './payment-status.ts';
import { findPayment } from './payment-store.ts';
import { numericIdSchema, objectIdParams, objectIdSchema } from '@paymesh/platform/ids';
import { listOf, listSchema, pageLimit, pageQuery } from '@paymesh/platform/pagination';

const createBody = Type.Object({
  amount: amountSchema,
  user_id: userIdSchema,
  currency: Type.Optional(currencySchema),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  payment_method: Type.Optional(paymentMethodSchema),
  confirm: Type.Optional(Type.Boolean()),
  capture_method: Type.Optional(Type.Union([Type.Literal('automatic'), Type.Literal('manual')])),
}, { additionalProperties: false });

/** A failed attempt answers 402 with Stripe's error object, the payment inside it. */
function failedAttempt(row: PaymentRow): Outcome | undefined {
  const error = row.last_payment_error as { type: string; code: string; decline_code?: string; message: string } | null;
  if (error === null) return undefined;
  const details = { payment: publicPayment(row) };
  const appError = error.type === 'card_error'
    ? paymentsErrors.cardDeclined({ code: error.code, declineCode: error.decline_code ?? error.code, message: error.message }, details)
    : paymentsErrors.balanceInsufficient(details);
  return { status: 402, body: JSON.stringify(appError.toBody()) };
}

/** POST /payments's answer (the compatibility contract's shape). */
const createdPaymentSchema = Type.Object({
  success: Type.Literal(true),
  message: Type.String({ description: 'For a person: "Payment of $100.00 received from user 12345".' }),
  payment: paymentSchema,
}, { description: 'The payment, created and, unless `confirm` was false, attempted: see its status.' });

/** The 402 of a failed attempt (failedAttempt above), or of card details refused before any attempt. */
const attemptFailedAnswer = errorCarrying(
  { payment: Type.Optional(paymentSchema) },
  'The attempt failed: the card was declined (card_error: card_declined, expired_card, incorrect_cvc, processing_error … with decline_code) or the wallet balance is too low (balance_insufficient). `error.payment` is the payment, back in requires_payment_method with its last_payment_error: confirm it again with another method. Card details that are not valid (incorrect_number, invalid_expiry_month, invalid_expiry_year, invalid_cvc) are refused the same way before anything is attempted, without `error.payment`.',
);

const idempotencyCodes = 'idempotency_key_invalid, idempotency_key_reused';
const parameterCodes = 'parameter_missing, parameter_unknown, parameter_invalid';

const createdMessages: Record<string, string> = {
  succeeded: 'received from',
  requires_capture: 'authorized for',
  requires_action: 'requires authentication by',
  processing: 'is processing for',
  requires_confirmation: 'created for',
  requires_payment_method: 'created for',
};

/** The contract's answer: `{"success": true, "message": "Payment of $100.00 received from user 12345", "payment": …}`. */
function renderCreated(row: PaymentRow): Outcome {
  const failed = failedAttempt(row);
  if (failed !== undefined) return failed;
  const amount = formatAmount(BigInt(row.amount_minor), row.currency.trim());
  const created: Static<typeof createdPaymentSchema> = { success: true, message: `Payment of ${amount} ${createdMessages[row.status]} user ${row.user_id}`, payment: publicPayment(row) };
  return { status: 200, body: JSON.stringify(created) };
}

function renderPayment(row: PaymentRow): Outcome {
  return failedAttempt(row) ?? { status: 200, body: JSON.stringify(publicPayment(row)) };
}

export function paymentRoutes(app: HttpServer, ctx: PaymentsContext): void {
  const { config, idempotency } = ctx;
  // Every POST /payments counts, refused ones too (before authentication and validation run).
  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST' && request.routeOptions.url === '/payments') ctx.metrics.requests.inc();
  });

  protectedRoutes(app, ctx.runtime.verify, (scope) => {
    scope.post('/payments', {
      config: { scope: 'payments:write' },
      schema: {
        body: createBody,
        response: {
          200: createdPaymentSchema,
          400: errorAnswer(`A parameter is missing or not valid (${parameterCodes}, amount_invalid, currency_invalid, payment_method_required), or the Idempotency-Key is (${idempotencyCodes}).`),
          402: attemptFailedAnswer,
          403: errorAnswer('The token lacks the scope payments:write (insufficient_scope), `user_id` is another user\'s and the caller is not an admin or a service (forbidden), or the user is disabled (user_disabled).'),
          404: errorAnswer('No such user (user_not_found), or no such saved payment method of this user (payment_method_not_found).'),
          503: errorAnswer('The card processor or the users service is unavailable (processor_unavailable, service_unavailable): nothing was done; retry.'),
        },
      },
    }, async (request, reply) => {
      const { caller, body } = request;
      const key = idempotency.key(request);
      const userId = actingUser(caller, body.user_id);
      const currency = requestCurrency(config, body.currency);
      const amountMinor = requestAmount(config, body.amount, currency);
      const confirm = body.confirm ?? true;
      const methodInput = body.payment_method ?? (confirm ? config.defaultPaymentMethod || undefined : undefined);
      if (confirm && methodInput === undefined) throw paymentsErrors.paymentMethodRequired();
      const method = methodInput === undefined ? undefined : await requestedMethod(ctx.db, methodInput, userId);
      // A refusal here is not an outcome: nothing is stored under the key, and a retry after the
      // user is enabled again runs anew.
      await ctx.payers.assertMayPay(userId);
      return idempotency.run(request, reply, key, (hold, store) => createPayment(ctx, {
        userId, amountMinor, currency, confirm, method,
        description: body.description,
        captureMethod: body.capture_method ?? 'automatic',
        createdBy: `${caller.kind}:${caller.subject}`,
      }, hold, store, renderCreated));
    });

    scope.post('/payments/:id/confirm', {
      config: { scope: 'payments:write' },
      schema: {
        params: objectIdParams,
        body: Type.Object({ payment_method: Type.Optional(paymentMethodSchema) }, { additionalProperties: false }),
        response: {
          200: paymentSchema,
          400: errorAnswer(`The payment cannot be confirmed in its status (payment_unexpected_state), it has no payment method and none was given (payment_method_required), its saved method was deleted (payment_method_detached), a parameter is not valid (${parameterCodes}), or the Idempotency-Key is (${idempotencyCodes}).`),
          402: attemptFailedAnswer,
          403: errorAnswer('The token lacks the scope payments:write (insufficient_scope), or the payer is disabled (user_disabled).'),
          404: errorAnswer('No such payment (payment_not_found), no such saved payment method of the payer (payment_method_not_found), or the payer no longer exists (user_not_found).'),
          503: errorAnswer('The card processor or the users service is unavailable (processor_unavailable, service_unavailable): nothing was done; retry.'),
        },
      },
    }, async (request, reply) => {
      const { caller } = request;
      const key = idempotency.key(request);
      const input = request.body.payment_method;
      const payment = await findPayment(ctx.db, request.params.id);
      if (payment === undefined || !mayActFor(caller, payment.user_id)) throw paymentsErrors.paymentNotFound();
      const method: RequestedMethod | undefined = input === undefined ? undefined : await requestedMethod(ctx.db, input, payment.user_id);
      await ctx.payers.assertMayPay(payment.user_id);
      return idempotency.run(request, reply, key, (hold, store) => confirmPayment(ctx, caller, request.params.id, method, hold, store, renderPayment));
    });

    scope.post('/payments/:id/capture', {
      config: { scope: 'payments:write' },
      schema: {
        params: objectIdParams,
        body: Type.Object({ amount_to_capture: Type.Optional(amountSchema) }, { additionalProperties: false }),
        response: {
          200: paymentSchema,
          400: errorAnswer(`The payment is not awaiting capture (payment_unexpected_state), amount_to_capture is more than was authorised (amount_too_large) or not valid (amount_invalid, ${parameterCodes}), or the Idempotency-Key is (${idempotencyCodes}).`),
          403: errorAnswer('The token lacks the scope payments:write (insufficient_scope), or the caller is the payer of an authorisation they did not create (forbidden).'),
          404: errorAnswer('No such payment (payment_not_found).'),
          503: errorAnswer('The card processor is unavailable (processor_unavailable): nothing was captured; retry.'),
        },
      },
    }, async (request, reply) => {
      const { caller } = request;
      const key = idempotency.key(request);
      const raw = request.body.amount_to_capture;
      let amount: bigint | undefined;
      if (raw !== undefined) {
        const payment = await findPayment(ctx.db, request.params.id);
        if (payment === undefined || !mayActFor(caller, payment.user_id)) throw paymentsErrors.paymentNotFound();
        amount = requestAmount(config, raw, payment.currency.trim(), 'amount_to_capture');
      }
      return idempotency.run(request, reply, key, (hold, store) => capturePayment(ctx, caller, request.params.id, amount, hold, store));
    });

    scope.post('/payments/:id/cancel', {
      config: { scope: 'payments:write' },
      schema: {
        params: objectIdParams,
        body: Type.Object({ cancellation_reason: Type.Optional(literalUnion(cancellationReasons)) }, { additionalProperties: false }),
        response: {
          200: paymentSchema,
          400: errorAnswer(`The payment can no longer be canceled: it succeeded, was canceled or is processing (payment_unexpected_state); a parameter is not valid (${parameterCodes}), or the Idempotency-Key is (${idempotencyCodes}).`),
          403: errorAnswer('The token lacks the scope payments:write (insufficient_scope), or the caller is the payer of an authorisation they did not create (forbidden).'),
          404: errorAnswer('No such payment (payment_not_found).'),
        },
      },
    }, async (request, reply) => {
      const { caller } = request;
      const key = idempotency.key(request);
      return idempotency.run(request, reply, key, (hold, store) => cancelPayment(ctx, caller, request.params.id, request.body.cancellation_reason, hold, store));
    });

    scope.get('/payments/:id', {
      config: { scope: 'payments:read' },
      schema: { params: objectIdParams, response: { 200: paymentSchema, 404: errorAnswer('No such payment (payment_not_found); another user\'s is as absent.') } },
    }, async (request) => {
      const row = await findPayment(ctx.db, request.params.id);
      // Another user's payment is as absent as an unknown one.
      if (row === undefined || !mayActFor(request.caller, row.user_id)) throw paymentsErrors.paymentNotFound();
      return publicPayment(row);
    });

    scope.get('/payments', {
      config: { scope: 'payments:read' },
      schema: {
        querystring: Type.Object({
          ...pageQuery(objectIdSchema),
          user_id: Type.Optional(numericIdSchema),
          status: Type.Optional(literalUnion(paymentStatuses)),
          'created[gte]': Type.Optional(Type.String({ pattern: '^[0-9]{1,11}$' })),
          'created[lte]': Type.Optional(Type.String({ pattern: '^[0-9]{1,11}$' })),
        }, { additionalProperties: false }),
        response: {
          200: listSchema(paymentSchema),
          400: errorAnswer(`A parameter is not valid (${parameterCodes}), or starting_after is not a payment of this list (parameter_invalid).`),
          403: errorAnswer('The token lacks the scope payments:read (insufficient_scope), or `user_id` is another user\'s and the caller is not an admin or a service (forbidden).'),
        },
      },
    }, async (request) => {
      const { caller } = request;
      // Users see their own; admins and services may filter by user or see all.
      const privileged = isAdmin(caller) || caller.kind === 'service';
      const userId = privileged ? request.query.user_id : localUserId(caller);
      assertOwnListFilter(caller, request.query.user_id, 'payments');
      const createdGte = request.query['created[gte]'];
      const createdLte = request.query['created[lte]'];
      const page = await listPayments(ctx.db, {
        userId,
        status: request.query.status,
        createdGte: createdGte === undefined ? undefined : Number(createdGte),
        createdLte: createdLte === undefined ? undefined : Number(createdLte),
        limit: pageLimit(request.query.limit, 10),
        startingAfter: request.query.starting_after,
      });
      return listOf(page.rows.map(publicPayment), page.hasMore);
    });
  });
}
