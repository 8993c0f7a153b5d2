// GET /payments/ledger/status (admins): the last check of the ledger invariants
// (docs/invariants.md), with the rules it found broken. Under /payments, the service's prefix, so
// the gateway and the Ingress route it with no new entry.
import { Type, type Static } from '@fastify/type-provider-typebox';
import { protectedRoutes } from '@paymesh/platform/auth/authenticate';
import type { HttpServer } from '@paymesh/platform/http-server';
import { errorAnswer } from '@paymesh/platform/openapi/use-open-api';
import type { PaymentsContext } from '../payments-context.ts';
import type { InvariantCheck } from './last-invariant-check.ts';

export const ledgerStatusSchema = Type.Object({
  object: Type.Literal('ledger_status'),
  status: Type.Union([Type.Literal('ok'), Type.Literal('violated')], { description: 'ok: every invariant held at the last check; violated: see `violations`.' }),
  checked: Type.Integer({ description: 'Unix seconds: when the last check ran (the schedule is PAYMENTS_INVARIANT_CHECK_SECONDS; a check runs on the spot when this instance has made none yet).' }),
  violations: Type.Array(Type.Object({
    rule: Type.String({ description: 'The invariant broken, in words.' }),
    detail: Type.String({ description: 'Where: the account, transfer or payment, and the numbers that disagree.' }),
  }), { description: 'Empty when status is ok.' }),
}, { description: 'The ledger\'s invariants (debits equal credits, balances equal their entries, payments agree with their transfers…) at the last check.' });

export function publicLedgerStatus(check: InvariantCheck): Static<typeof ledgerStatusSchema> {
  return {
    object: 'ledger_status',
    status: check.violations.length === 0 ? 'ok' : 'violated',
    checked: Math.floor(check.checkedAtMs / 1000),
    violations: check.violations.map(({ rule, detail }) => ({ rule, detail })),
  };
}

export function ledgerRoutes(app: HttpServer, ctx: PaymentsContext): void {
  protectedRoutes(app, ctx.runtime.verify, (scope) => {
    scope.get('/payments/ledger/status', {
      config: { callers: ['admin'], scope: 'payments:read' },
      schema: {
        response: {
          200: ledgerStatusSchema,
          403: errorAnswer('The caller is not an admin (forbidden), or the token lacks the scope payments:read (insufficient_scope).'),
        },
      },
    }, async () => publicLedgerStatus(await ctx.invariants.current()));
  });
}
