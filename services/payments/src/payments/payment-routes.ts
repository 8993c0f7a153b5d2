// POST /payments (the contract), GET /payments/:id, GET /payments.
import { Type } from '@fastify/type-provider-typebox';
import { Counter } from 'prom-client';
import { isAdmin, localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes, requireScope } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import type { ServiceClient } from '@paymesh/platform/service-client';
import { AppError, platformErrors } from '@paymesh/platform/errors';
import type { ConfigOf } from '@paymesh/platform/config';
import type { paymentsConfigSpec } from '../config.ts';
import { paymentsErrors } from '../errors.ts';
import { isSupportedCurrency } from '../money/currencies.ts';
import { formatAmount, parseAmount } from '../money/parse-amount.ts';
import { createPayment } from './create-payment.ts';
import { listPayments } from './list-payments.ts';
import { publicPayment, type PaymentRow } from './payment.ts';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { claimIdempotencyKey, releaseIdempotencyKey, requestFingerprint, storeIdempotentResponse, validateIdempotencyKey } from '../idempotency/idempotency-key.ts';

const createBody = Type.Object({
  // A string after the exact-amount parser; a JSON string is accepted too.
  amount: Type.String({ maxLength: 40 }),
  user_id: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[1-9][0-9]{0,17}$' })]),
  currency: Type.Optional(Type.String({ minLength: 3, maxLength: 3 })),
  description: Type.Optional(Type.String({ maxLength: 1000 })),
}, { additionalProperties: false });

export function paymentRoutes(app: HttpServer, runtime: Runtime, users: ServiceClient, config: ConfigOf<typeof paymentsConfigSpec>): void {
  const { db } = runtime.database;
  const requests = new Counter({ name: 'payment_request_count', help: 'Payment requests received (POST /payments).', registers: [runtime.metrics.registry] });
  const created = new Counter({ name: 'payments_total', help: 'Payments created, by status and currency.', labelNames: ['status', 'currency'] as const, registers: [runtime.metrics.registry] });
  const amounts = new Counter({ name: 'payment_amount_minor_total', help: 'Sum of created payments, in minor units of their currency.', labelNames: ['currency'] as const, registers: [runtime.metrics.registry] });
  const replays = new Counter({ name: 'idempotent_replays_total', help: 'POST /payments answered from a stored response (same Idempotency-Key, same parameters).', registers: [runtime.metrics.registry] });
  const maxMinor = BigInt(config.maxAmountMinor);
  // Every POST /payments counts, refused ones too (before authentication and validation run).
  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST' && request.routeOptions.url === '/payments') requests.inc();
  });

  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/payments', { schema: { body: createBody } }, async (request, reply) => {
      const { caller } = request;
      requireScope(caller, 'payments:write');
      const idempotencyKey = validateIdempotencyKey(request.headers['idempotency-key']);
      const userId = String(request.body.user_id);
      if (!mayActFor(caller, userId)) throw paymentsErrors.notYourUser();
      const currency = (request.body.currency ?? config.defaultCurrency).toUpperCase();
      if (!isSupportedCurrency(currency)) throw paymentsErrors.invalidCurrency(currency);
      const amountMinor = parseAmount(request.body.amount, currency, maxMinor);

      // Validation is over: from here the request executes, and its outcome is what a repeat with
      // the same Idempotency-Key gets (a request that failed validation stored nothing).
      const execute = async (inTransaction?: (tx: Db, body: string) => Promise<void>): Promise<string> => {
        // The payer must exist and be active: the users service is the authority.
        const payer = await users.request<{ status: string }>({ method: 'GET', path: `/users/${userId}` });
        if (payer.status === 404) throw paymentsErrors.userNotFound();
        if (payer.status !== 200) {
          request.log.error({ status: payer.status }, 'payer check failed');
          throw platformErrors.serviceUnavailable();
        }
        if (payer.body.status !== 'active') throw paymentsErrors.userNotFound();
        let body = '';
        await createPayment(db, { userId, amountMinor, currency, description: request.body.description, createdBy: `${caller.kind}:${caller.subject}` }, async (tx, payment) => {
          body = JSON.stringify({
            success: true,
            message: `Payment of ${formatAmount(amountMinor, currency)} received from user ${userId}`,
            payment: publicPayment(payment),
          });
          await inTransaction?.(tx, body);
        });
        runtime.relay.kick();
        created.inc({ status: 'succeeded', currency });
        amounts.inc({ currency }, Number(amountMinor));
        return body;
      };
      const sendJson = (status: number, body: string) => reply.code(status).type('application/json; charset=utf-8').send(body);

      if (idempotencyKey === undefined) return sendJson(200, await execute());
      const keyScope = `${caller.kind}:${caller.subject}`;
      const claim = await claimIdempotencyKey(db, keyScope, idempotencyKey, requestFingerprint('POST', '/payments', request.body));
      if (claim.kind === 'replay') {
        replays.inc();
        return reply.header('idempotent-replayed', 'true').code(claim.status).type('application/json; charset=utf-8').send(claim.body);
      }
      try {
        return sendJson(200, await execute((tx, body) => storeIdempotentResponse(tx, keyScope, idempotencyKey, 200, body)));
      } catch (error) {
        // A refusal is the request's outcome and is replayed; an outage is not (a retry runs anew).
        if (error instanceof AppError && error.statusCode < 500) await storeIdempotentResponse(db, keyScope, idempotencyKey, error.statusCode, JSON.stringify(error.toBody()));
        else await releaseIdempotencyKey(db, keyScope, idempotencyKey);
        throw error;
      }
    });

    scope.get('/payments/:id', { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (request) => {
      requireScope(request.caller, 'payments:read');
      const [row] = await queryRows<PaymentRow>(db, sql`select id, seq, user_id, amount_minor, currency, status, description, created_at from payments where id = ${request.params.id}`);
      // Another user's payment is as absent as an unknown one.
      if (row === undefined || !mayActFor(request.caller, row.user_id)) throw paymentsErrors.paymentNotFound();
      return publicPayment(row);
    });

    scope.get('/payments', {
      schema: {
        querystring: Type.Object({
          limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
          starting_after: Type.Optional(Type.String({ maxLength: 64 })),
          user_id: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,17}$' })),
          status: Type.Optional(Type.Union([Type.Literal('succeeded')])),
          'created[gte]': Type.Optional(Type.String({ pattern: '^[0-9]{1,11}$' })),
          'created[lte]': Type.Optional(Type.String({ pattern: '^[0-9]{1,11}$' })),
        }, { additionalProperties: false }),
      },
    }, async (request) => {
      const { caller } = request;
      requireScope(caller, 'payments:read');
      // Users see their own; admins and services may filter by user or see all.
      const privileged = isAdmin(caller) || caller.kind === 'service';
      const userId = privileged ? request.query.user_id : localUserId(caller);
      const createdGte = request.query['created[gte]'];
      const createdLte = request.query['created[lte]'];
      const page = await listPayments(db, {
        userId,
        status: request.query.status,
        createdGte: createdGte === undefined ? undefined : Number(createdGte),
        createdLte: createdLte === undefined ? undefined : Number(createdLte),
        limit: Number(request.query.limit ?? 10),
        startingAfter: request.query.starting_after,
      });
      return { object: 'list', data: page.rows.map(publicPayment), has_more: page.hasMore };
    });
  });
}
