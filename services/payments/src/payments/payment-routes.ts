// POST /payments (the contract), GET /payments/:id, GET /payments.
import { Type } from '@fastify/type-provider-typebox';
import { Counter } from 'prom-client';
import { isAdmin, localUserId, mayActFor } from '@paymesh/platform/auth/caller';
import { protectedRoutes, requireScope } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import type { Runtime } from '@paymesh/platform/runtime';
import type { ServiceClient } from '@paymesh/platform/service-client';
import { platformErrors } from '@paymesh/platform/errors';
import type { ConfigOf } from '@paymesh/platform/config';
import type { paymentsConfigSpec } from '../config.ts';
import { paymentsErrors } from '../errors.ts';
import { isSupportedCurrency } from '../money/currencies.ts';
import { formatAmount, parseAmount } from '../money/parse-amount.ts';
import { createPayment } from './create-payment.ts';
import { listPayments } from './list-payments.ts';
import { publicPayment, type PaymentRow } from './payment.ts';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows } from '@paymesh/platform/db/open-database';

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
  const maxMinor = BigInt(config.maxAmountMinor);
  // Every POST /payments counts, refused ones too (before authentication and validation run).
  app.addHook('onRequest', async (request) => {
    if (request.method === 'POST' && request.routeOptions.url === '/payments') requests.inc();
  });

  protectedRoutes(app, runtime.verify, (scope) => {
    scope.post('/payments', { schema: { body: createBody } }, async (request) => {
      const { caller } = request;
      requireScope(caller, 'payments:write');
      const userId = String(request.body.user_id);
      if (!mayActFor(caller, userId)) throw paymentsErrors.notYourUser();
      const currency = (request.body.currency ?? config.defaultCurrency).toUpperCase();
      if (!isSupportedCurrency(currency)) throw paymentsErrors.invalidCurrency(currency);
      const amountMinor = parseAmount(request.body.amount, currency, maxMinor);

      // The payer must exist and be active: the users service is the authority.
      const payer = await users.request<{ status: string }>({ method: 'GET', path: `/users/${userId}` });
      if (payer.status === 404) throw paymentsErrors.userNotFound();
      if (payer.status !== 200) {
        request.log.error({ status: payer.status }, 'payer check failed');
        throw platformErrors.serviceUnavailable();
      }
      if (payer.body.status !== 'active') throw paymentsErrors.userNotFound();

      const payment = await createPayment(db, { userId, amountMinor, currency, description: request.body.description, createdBy: `${caller.kind}:${caller.subject}` });
      runtime.relay.kick();
      return {
        success: true,
        message: `Payment of ${formatAmount(amountMinor, currency)} received from user ${userId}`,
        payment: publicPayment(payment),
      };
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
        }, { additionalProperties: false }),
      },
    }, async (request) => {
      const { caller } = request;
      requireScope(caller, 'payments:read');
      // Users see their own; admins and services may filter by user or see all.
      const privileged = isAdmin(caller) || caller.kind === 'service';
      const userId = privileged ? request.query.user_id : localUserId(caller);
      const page = await listPayments(db, { userId, limit: Number(request.query.limit ?? 10), startingAfter: request.query.starting_after });
      return { object: 'list', data: page.rows.map(publicPayment), has_more: page.hasMore };
    });
  });
}
