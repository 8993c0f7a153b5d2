// The ledger model's auditor: the service's side (its answers, payment rows and account rows)
// summarised in the model's terms, compared with the model, and the full audit of the whole state
// (the invariants, every account, payment, transfer and wallet). See ledger-model-suite.ts.
import assert from 'node:assert/strict';
import type { Api, ApiResponse } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '../src/ledger/check-invariants.ts';
import { type Account, type Op, Model, type PaymentSummary, type ResponseSummary, answer, code, currencies, modelSummary, zero } from './ledger-model.ts';

/** What the full audit reads: the payments database, the API as the admin, the workload's users. */
export interface Audited {
  readonly db: Db;
  readonly api: Api;
  readonly adminToken: string;
  readonly userIds: readonly number[];
}

// ---------------------------------------------------------------------------------------------
// The service's side, summarised in the model's terms.

export function paymentSummary(payment: any): PaymentSummary {
  return {
    user_id: payment.user_id,
    amount: payment.amount,
    currency: payment.currency,
    status: payment.status,
    capture_method: payment.capture_method,
    amount_capturable: payment.amount_capturable,
    amount_received: payment.amount_received,
    amount_refunded: payment.amount_refunded,
    method: payment.payment_method?.type ?? null,
    last_error: payment.last_payment_error?.code ?? null,
    cancellation_reason: payment.cancellation_reason,
    canceled: payment.canceled_at !== null && payment.canceled_at !== undefined,
  };
}

export function responseSummary(op: Op, response: ApiResponse): ResponseSummary {
  const body = response.body;
  if (typeof body !== 'object' || body === null) return answer(response.status, { error: { type: '(no JSON body)', code: String(body), decline_code: null, param: null } });
  if (body.error !== undefined) {
    const e = body.error;
    return answer(response.status, {
      error: { type: e.type, code: e.code, decline_code: e.decline_code ?? null, param: e.param ?? null },
      payment: e.payment === undefined ? null : paymentSummary(e.payment),
    });
  }
  switch (op.kind) {
    case 'card':
    case 'wallet_pay':
      return answer(response.status, { created: { success: body.success, message: body.message }, payment: paymentSummary(body.payment) });
    case 'top_up':
      return answer(response.status, { topUp: { object: body.object, user_id: body.user_id, amount: body.amount, currency: body.currency, status: body.status } });
    case 'refund':
      return answer(response.status, { refund: { object: body.object, payment_id: body.payment_id, amount: body.amount, currency: body.currency, status: body.status, reason: body.reason } });
    default:
      return answer(response.status, { payment: paymentSummary(body) });
  }
}

/** The id of the payment a response shows, if any. */
export function responsePaymentId(response: ApiResponse): string | undefined {
  const body = response.body;
  return body?.payment?.id ?? body?.error?.payment?.id ?? (body?.object === 'payment' ? body.id : undefined);
}

export interface AccountRow {
  code: string;
  currency: string;
  user_id: string | null;
  no_overdraft: boolean;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
}

export const fromRow = (r: AccountRow): Account => ({
  debitsPosted: Number(r.debits_posted),
  creditsPosted: Number(r.credits_posted),
  debitsPending: Number(r.debits_pending),
  creditsPending: Number(r.credits_pending),
});

export interface PaymentDbRow {
  id: string;
  user_id: string;
  amount_minor: string;
  currency: string;
  status: string;
  capture_method: string;
  amount_capturable: string;
  amount_received: string;
  amount_refunded: string;
  payment_method_type: string | null;
  last_error: string | null;
  cancellation_reason: string | null;
  canceled: boolean;
}

export const paymentRowSummary = (r: PaymentDbRow): PaymentSummary => ({
  user_id: Number(r.user_id),
  amount: Number(r.amount_minor),
  currency: r.currency.trim().toLowerCase(),
  status: r.status,
  capture_method: r.capture_method,
  amount_capturable: Number(r.amount_capturable),
  amount_received: Number(r.amount_received),
  amount_refunded: Number(r.amount_refunded),
  method: r.payment_method_type,
  last_error: r.last_error,
  cancellation_reason: r.cancellation_reason,
  canceled: r.canceled,
});

export const paymentRowColumns = sql.raw(`id, user_id, amount_minor, currency, status, capture_method, amount_capturable, amount_received, amount_refunded,
  payment_method_type, last_payment_error->>'code' as last_error, cancellation_reason, canceled_at is not null as canceled`);


export async function accountRows(db: Db, codes?: readonly string[]): Promise<Map<string, AccountRow>> {
  const where = codes === undefined ? sql`true` : sql`code in (${sql.join(codes.map((c) => sql`${c}`), sql`, `)})`;
  const rows = await queryRows<AccountRow>(db, sql`select code, currency, user_id::text as user_id, no_overdraft,
    debits_posted::text as debits_posted, credits_posted::text as credits_posted, debits_pending::text as debits_pending, credits_pending::text as credits_pending
    from ledger_accounts where ${where}`);
  return new Map(rows.map((r) => [r.code, r]));
}

/** Accounts compared as balances; an account the service never created has zero balances. */
export function compareAccounts(model: Model, codes: Iterable<string>, rows: Map<string, AccountRow>, where: string) {
  const expected: Record<string, Account> = {};
  const actual: Record<string, Account> = {};
  for (const c of codes) {
    expected[c] = model.balance(c);
    const row = rows.get(c);
    actual[c] = row === undefined ? zero() : fromRow(row);
  }
  assert.deepEqual(actual, expected, `${where}: account balances differ from the model's`);
}

/** The whole state: invariants, every account, every payment, the transfers and the wallets as the API shows them. */
export async function audit(audited: Audited, model: Model, where: string) {
  const { db, api, adminToken, userIds } = audited;
  assert.deepEqual(await checkLedgerInvariants(db), [], `${where}: ledger invariants`);

  const rows = await accountRows(db);
  const known = new Set<string>();
  for (const userId of userIds) for (const c of currencies) known.add(code.wallet(userId, c));
  for (const c of currencies) for (const f of [code.clearing, code.revenue, code.refunds]) known.add(f(c));
  for (const [c, row] of rows) {
    assert.ok(known.has(c), `${where}: unexpected ledger account ${c}`);
    const wallet = /^user:(\d+):wallet:(\w+)$/.exec(c);
    assert.deepEqual(
      { currency: row.currency.trim(), user_id: row.user_id, no_overdraft: row.no_overdraft },
      { currency: c.slice(-3), user_id: wallet === null ? null : wallet[1]!, no_overdraft: wallet !== null },
      `${where}: account ${c}'s currency, owner and no-overdraft flag`,
    );
  }
  compareAccounts(model, new Set([...known, ...model.accounts.keys()]), rows, where);

  const payments = await queryRows<PaymentDbRow>(db, sql`select ${paymentRowColumns} from payments`);
  assert.deepEqual(payments.map((r) => r.id).sort(), [...model.payments.keys()].sort(), `${where}: the set of payments`);
  const actual: Record<string, PaymentSummary> = {};
  const expected: Record<string, PaymentSummary> = {};
  for (const r of payments) {
    actual[r.id] = paymentRowSummary(r);
    expected[r.id] = modelSummary(model.payments.get(r.id)!);
  }
  assert.deepEqual(actual, expected, `${where}: payments differ from the model's`);

  const transfers = await queryRows<{ key: string; n: string }>(db, sql`select concat(kind, ':', flags) as key, count(*)::text as n from ledger_transfers group by kind, flags`);
  assert.deepEqual(
    Object.fromEntries(transfers.map((r) => [r.key, Number(r.n)]).sort()),
    Object.fromEntries([...model.transfers].sort()),
    `${where}: ledger transfers by kind and flags`,
  );

  for (const userId of userIds) {
    const wallet = await api.call('GET', `/wallet/${userId}`, { token: adminToken });
    assert.equal(wallet.status, 200, `${where}: GET /wallet/${userId}`);
    const shown = Object.fromEntries((wallet.body.balances as { currency: string; available: number; held: number }[]).map((b) => [b.currency, { available: b.available, held: b.held }]));
    const predicted: Record<string, { available: number; held: number }> = {};
    for (const c of currencies) {
      const a = model.balance(code.wallet(userId, c));
      const entry = { available: a.creditsPosted - a.debitsPosted - a.debitsPending, held: a.debitsPending };
      // A wallet the service created without moving money in it shows zeros; one never created is not listed.
      if (shown[c.toLowerCase()] !== undefined || a.creditsPosted + a.debitsPosted + a.debitsPending > 0) predicted[c.toLowerCase()] = entry;
    }
    assert.deepEqual(shown, predicted, `${where}: GET /wallet/${userId} balances`);
  }
}

