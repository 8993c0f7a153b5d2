// The ledger model's side: the money rules as the API documents them, an independent in-memory
// model of accounts and payments written from those rules (not from the service's code), and the
// prediction of what each operation must answer and move. See ledger-model-suite.ts.
import assert from 'node:assert/strict';

/** One step of the workload (ledger-workload.ts chooses them; the model predicts each). */
export type Op =
  // method: a card name, "default" (none given: the configured pm_card_visa) or "none" (only with confirm false)
  | { kind: 'card'; user: number; currency: Currency; amount: number; capture: 'automatic' | 'manual'; method: string; confirm: boolean; admin: boolean } & RequestStyle
  | { kind: 'wallet_pay'; user: number; currency: Currency; amount: number; capture: 'automatic' | 'manual'; confirm: boolean; admin: boolean } & RequestStyle
  | { kind: 'capture'; payment: string; amount: number | null; actor: number | 'admin'; asNumber: boolean }
  | { kind: 'cancel'; payment: string; reason: string | null; actor: number | 'admin' }
  | { kind: 'refund'; payment: string; amount: number | null; reason: string | null; asNumber: boolean }
  | { kind: 'refund_by_user'; payment: string; actor: number }
  | { kind: 'confirm'; payment: string; method: string | null; actor: number | 'admin' }
  | { kind: 'top_up'; user: number; currency: Currency; amount: number; method: string; admin: boolean } & RequestStyle
  // the request of an earlier step sent again with its Idempotency-Key
  | { kind: 'replay'; step: number };

/** How a create request is written: amount as JSON number text or string, currency as given ("usd", "USD" or left to the default). */
export interface RequestStyle {
  readonly asNumber: boolean;
  readonly currencyText: string | null;
  readonly captureField: boolean;
}

// ---------------------------------------------------------------------------------------------
// The rules, as the API documents them.

export type Currency = 'USD' | 'JPY';
export const currencies: readonly Currency[] = ['USD', 'JPY'];
export const exponents: Record<Currency, number> = { USD: 2, JPY: 0 };
/** Upper bound of a random payment amount, in minor units: $400.00 and ¥40,000. */
export const paymentCeiling: Record<Currency, number> = { USD: 40_000, JPY: 40_000 };

export type Status = 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'succeeded' | 'canceled';

/** Stripe's test payment methods: the ones that succeed, and what the others are declined with. */
export const goodCards = ['pm_card_visa', 'card:4242424242424242', 'card:5555555555554444'] as const;
/** Cards that ask for 3-D Secure: the first attempt requires_action; confirming again (authenticated) authorises. */
export const threeDSecureCards = ['pm_card_authenticationRequired', 'card:4000002760003184'] as const;
export const declinedCards: Record<string, { code: string; decline_code: string }> = {
  pm_card_visa_chargeDeclined: { code: 'card_declined', decline_code: 'generic_decline' },
  pm_card_visa_chargeDeclinedInsufficientFunds: { code: 'card_declined', decline_code: 'insufficient_funds' },
  pm_card_chargeDeclinedExpiredCard: { code: 'expired_card', decline_code: 'expired_card' },
  pm_card_chargeDeclinedIncorrectCvc: { code: 'incorrect_cvc', decline_code: 'incorrect_cvc' },
  pm_card_chargeDeclinedProcessingError: { code: 'processing_error', decline_code: 'processing_error' },
  'card:4000000000000002': { code: 'card_declined', decline_code: 'generic_decline' },
  'card:4000000000009995': { code: 'card_declined', decline_code: 'insufficient_funds' },
};
export const declinedCardNames = Object.keys(declinedCards);
export const cancellationReasons = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
export const refundReasons = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

export const code = {
  clearing: (c: Currency) => `system:processor_clearing:${c}`,
  revenue: (c: Currency) => `system:platform_revenue:${c}`,
  refunds: (c: Currency) => `system:refunds:${c}`,
  wallet: (userId: number, c: Currency) => `user:${userId}:wallet:${c}`,
};

/** A payment-method name of the workload as the API takes it: "wallet", a test pm id or card details. */
export function methodJson(name: string): unknown {
  if (!name.startsWith('card:')) return name;
  return { number: name.slice('card:'.length), exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123' };
}

export function decimal(minor: number, currency: Currency): string {
  const exponent = exponents[currency];
  if (exponent === 0) return String(minor);
  const digits = String(minor).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

export function display(minor: number, currency: Currency): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(minor / 10 ** exponents[currency]);
}

// ---------------------------------------------------------------------------------------------
// The model.

export interface Account {
  debitsPosted: number;
  creditsPosted: number;
  debitsPending: number;
  creditsPending: number;
}
export const zero = (): Account => ({ debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 });

export interface Hold {
  readonly debit: string;
  readonly credit: string;
  readonly amount: number;
  readonly kind: TransferKind;
}
export type TransferKind = 'payment' | 'refund' | 'top_up';

export interface ModelPayment {
  id: string;
  readonly userId: number;
  readonly currency: Currency;
  readonly amount: number;
  readonly captureMethod: 'automatic' | 'manual';
  status: Status;
  method: 'card' | 'wallet' | null;
  capturable: number;
  received: number;
  refunded: number;
  lastError: string | null;
  cancellationReason: string | null;
  hold: Hold | null;
  /** The method a confirm without one uses (given at creation, or the card awaiting 3-D Secure). */
  held: string | null;
  /** Created by the admin: then only the admin decides what becomes of its authorization. */
  readonly byAdmin: boolean;
}

export interface PaymentSummary {
  user_id: number;
  amount: number;
  currency: string;
  status: string;
  capture_method: string;
  amount_capturable: number;
  amount_received: number;
  amount_refunded: number;
  method: string | null;
  last_error: string | null;
  cancellation_reason: string | null;
  canceled: boolean;
}

export function modelSummary(p: ModelPayment): PaymentSummary {
  return {
    user_id: p.userId,
    amount: p.amount,
    currency: p.currency.toLowerCase(),
    status: p.status,
    capture_method: p.captureMethod,
    amount_capturable: p.capturable,
    amount_received: p.received,
    amount_refunded: p.refunded,
    method: p.method,
    last_error: p.lastError,
    cancellation_reason: p.cancellationReason,
    canceled: p.status === 'canceled',
  };
}

export interface ResponseSummary {
  status: number;
  error: { type: string; code: string; decline_code: string | null; param: string | null } | null;
  /** POST /payments answers {success, message, payment}. */
  created: { success: boolean; message: string } | null;
  payment: PaymentSummary | null;
  refund: { object: string; payment_id: string; amount: number; currency: string; status: string; reason: string | null } | null;
  topUp: { object: string; user_id: number; amount: number; currency: string; status: string } | null;
}

export const answer = (status: number, parts: Partial<ResponseSummary> = {}): ResponseSummary => ({ status, error: null, created: null, payment: null, refund: null, topUp: null, ...parts });
export const refusal = (status: number, type: string, errorCode: string, param: string | null = null, declineCode: string | null = null): ResponseSummary =>
  answer(status, { error: { type, code: errorCode, decline_code: declineCode, param } });

export class Model {
  readonly accounts = new Map<string, Account>();
  readonly payments = new Map<string, ModelPayment>();
  readonly paymentList: ModelPayment[] = [];
  /** Transfers by `kind:flags`. */
  readonly transfers = new Map<string, number>();

  account(accountCode: string): Account {
    let account = this.accounts.get(accountCode);
    if (account === undefined) this.accounts.set(accountCode, (account = zero()));
    return account;
  }

  balance(accountCode: string): Account {
    return this.accounts.get(accountCode) ?? zero();
  }

  /** What a wallet can spend: credits posted, less debits posted and debits reserved. */
  available(userId: number, currency: Currency): number {
    const a = this.balance(code.wallet(userId, currency));
    return a.creditsPosted - a.debitsPosted - a.debitsPending;
  }

  #count(kind: TransferKind, flags: string) {
    const key = `${kind}:${flags}`;
    this.transfers.set(key, (this.transfers.get(key) ?? 0) + 1);
  }

  single(debit: string, credit: string, amount: number, kind: TransferKind) {
    assert.ok(amount > 0 && debit !== credit, 'model: a transfer moves a positive amount between two accounts');
    this.account(debit).debitsPosted += amount;
    this.account(credit).creditsPosted += amount;
    this.#count(kind, 'single');
  }

  reserve(debit: string, credit: string, amount: number, kind: TransferKind): Hold {
    assert.ok(amount > 0 && debit !== credit, 'model: a transfer moves a positive amount between two accounts');
    this.account(debit).debitsPending += amount;
    this.account(credit).creditsPending += amount;
    this.#count(kind, 'pending');
    return { debit, credit, amount, kind };
  }

  /** Posts `amount` of a hold and releases the rest. */
  post(hold: Hold, amount: number) {
    assert.ok(amount > 0 && amount <= hold.amount, 'model: a hold is posted within its amount');
    this.account(hold.debit).debitsPending -= hold.amount;
    this.account(hold.credit).creditsPending -= hold.amount;
    this.account(hold.debit).debitsPosted += amount;
    this.account(hold.credit).creditsPosted += amount;
    this.#count(hold.kind, 'post_pending');
  }

  void(hold: Hold) {
    this.account(hold.debit).debitsPending -= hold.amount;
    this.account(hold.credit).creditsPending -= hold.amount;
    this.#count(hold.kind, 'void_pending');
  }

  add(payment: ModelPayment) {
    this.payments.set(payment.id, payment);
    this.paymentList.push(payment);
  }
}

export interface Prediction {
  readonly response: ResponseSummary;
  /** The payment the operation concerns (new or existing), as the model now has it. */
  readonly payment: ModelPayment | undefined;
  readonly isNew: boolean;
  /** The accounts whose balances the step checks. */
  readonly touched: readonly string[];
}

export function accountsOf(userId: number, currency: Currency): string[] {
  return [code.clearing(currency), code.revenue(currency), code.refunds(currency), code.wallet(userId, currency)];
}

/**
 * One attempt to pay with `method` (a card that asks for 3-D Secure is authorised once `authenticated`):
 * the model's ledger moves and the payment's new fields. Returns the error if refused.
 */
export function attempt(model: Model, p: ModelPayment, method: string, authenticated: boolean): ResponseSummary['error'] {
  const manual = p.captureMethod === 'manual';
  p.held = method;
  if (method === 'wallet') {
    const wallet = code.wallet(p.userId, p.currency);
    if (model.available(p.userId, p.currency) < p.amount) {
      Object.assign(p, { status: 'requires_payment_method', method: null, capturable: 0, received: 0, lastError: 'balance_insufficient', hold: null, held: null });
      return { type: 'invalid_request_error', code: 'balance_insufficient', decline_code: null, param: 'payment_method' };
    }
    if (manual) Object.assign(p, { status: 'requires_capture', method: 'wallet', capturable: p.amount, received: 0, lastError: null, hold: model.reserve(wallet, code.revenue(p.currency), p.amount, 'payment') });
    else {
      model.single(wallet, code.revenue(p.currency), p.amount, 'payment');
      Object.assign(p, { status: 'succeeded', method: 'wallet', capturable: 0, received: p.amount, lastError: null, hold: null });
    }
    return null;
  }
  const declined = declinedCards[method];
  if (declined !== undefined) {
    Object.assign(p, { status: 'requires_payment_method', method: null, capturable: 0, received: 0, lastError: declined.code, hold: null, held: null });
    return { type: 'card_error', code: declined.code, decline_code: declined.decline_code, param: null };
  }
  if ((threeDSecureCards as readonly string[]).includes(method) && !authenticated) {
    Object.assign(p, { status: 'requires_action', method: 'card', capturable: 0, received: 0, lastError: null, hold: null });
    return null;
  }
  if (manual) Object.assign(p, { status: 'requires_capture', method: 'card', capturable: p.amount, received: 0, lastError: null, hold: model.reserve(code.clearing(p.currency), code.revenue(p.currency), p.amount, 'payment') });
  else {
    model.single(code.clearing(p.currency), code.revenue(p.currency), p.amount, 'payment');
    Object.assign(p, { status: 'succeeded', method: 'card', capturable: 0, received: p.amount, lastError: null, hold: null });
  }
  return null;
}

export function predict(model: Model, op: Op): Prediction {
  switch (op.kind) {
    case 'card':
    case 'wallet_pay': {
      const p: ModelPayment = {
        id: '(new)', userId: op.user, currency: op.currency, amount: op.amount, captureMethod: op.capture,
        status: 'requires_payment_method', method: null, capturable: 0, received: 0, refunded: 0, lastError: null, cancellationReason: null, hold: null, held: null,
        byAdmin: op.admin,
      };
      const method = op.kind === 'wallet_pay' ? 'wallet' : op.method === 'default' ? 'pm_card_visa' : op.method;
      let error: ResponseSummary['error'] = null;
      if (op.confirm) error = attempt(model, p, method, false);
      else if (method !== 'none') Object.assign(p, { status: 'requires_confirmation', method: method === 'wallet' ? 'wallet' : 'card', held: method });
      const verb = { succeeded: 'received from', requires_capture: 'authorized for', requires_action: 'requires authentication by' }[p.status as string] ?? 'created for';
      const response = error !== null
        ? answer(402, { error, payment: modelSummary(p) })
        : answer(200, { created: { success: true, message: `Payment of ${display(p.amount, p.currency)} ${verb} user ${p.userId}` }, payment: modelSummary(p) });
      return { response, payment: p, isNew: true, touched: accountsOf(op.user, op.currency) };
    }
    case 'top_up': {
      const touched = accountsOf(op.user, op.currency);
      const declined = declinedCards[op.method];
      if (declined !== undefined) return { response: refusal(402, 'card_error', declined.code, null, declined.decline_code), payment: undefined, isNew: false, touched };
      if (op.method === 'pm_card_authenticationRequired') {
        return { response: refusal(402, 'card_error', 'authentication_required', 'payment_method', 'authentication_required'), payment: undefined, isNew: false, touched };
      }
      model.single(code.clearing(op.currency), code.wallet(op.user, op.currency), op.amount, 'top_up');
      return {
        response: answer(200, { topUp: { object: 'wallet_top_up', user_id: op.user, amount: op.amount, currency: op.currency.toLowerCase(), status: 'succeeded' } }),
        payment: undefined, isNew: false, touched,
      };
    }
    case 'replay':
      throw new Error('a replay is checked against its first answer, not predicted');
    default:
      break;
  }
  const p = model.payments.get(op.payment)!;
  const touched = accountsOf(p.userId, p.currency);
  const same = { payment: p, isNew: false, touched };
  const notFound = { response: refusal(404, 'invalid_request_error', 'payment_not_found'), ...same };
  const unexpectedState = { response: refusal(400, 'invalid_request_error', 'payment_unexpected_state'), ...same };
  // A payer never captures or releases a hold the platform placed on their card.
  const forbidden = { response: refusal(403, 'permission_error', 'forbidden'), ...same };
  switch (op.kind) {
    case 'capture': {
      if (op.actor !== 'admin' && op.actor !== p.userId) return notFound;
      if (op.actor !== 'admin' && p.byAdmin) return forbidden;
      if (p.status !== 'requires_capture') return unexpectedState;
      const captured = op.amount ?? p.capturable;
      if (captured > p.capturable) return { response: refusal(400, 'invalid_request_error', 'amount_too_large', 'amount_to_capture'), ...same };
      model.post(p.hold!, captured);
      Object.assign(p, { status: 'succeeded', capturable: 0, received: captured, hold: null });
      return { response: answer(200, { payment: modelSummary(p) }), ...same };
    }
    case 'cancel': {
      if (op.actor !== 'admin' && op.actor !== p.userId) return notFound;
      if (op.actor !== 'admin' && p.byAdmin && p.status === 'requires_capture') return forbidden;
      if (!['requires_payment_method', 'requires_confirmation', 'requires_action', 'requires_capture'].includes(p.status)) return unexpectedState;
      if (p.hold !== null) model.void(p.hold);
      Object.assign(p, { status: 'canceled', capturable: 0, hold: null, cancellationReason: op.reason });
      return { response: answer(200, { payment: modelSummary(p) }), ...same };
    }
    case 'refund': {
      if (p.status !== 'succeeded') return unexpectedState;
      const left = p.received - p.refunded;
      if (left === 0) return { response: refusal(400, 'invalid_request_error', 'charge_already_refunded'), ...same };
      const refunded = op.amount ?? left;
      if (refunded > left) return { response: refusal(400, 'invalid_request_error', 'amount_too_large', 'amount'), ...same };
      // The money goes back the way it came: to the card (processor clearing) or to the wallet,
      // reserved first and posted once the processor has refunded.
      model.post(model.reserve(code.refunds(p.currency), p.method === 'wallet' ? code.wallet(p.userId, p.currency) : code.clearing(p.currency), refunded, 'refund'), refunded);
      p.refunded += refunded;
      return { response: answer(200, { refund: { object: 'refund', payment_id: p.id, amount: refunded, currency: p.currency.toLowerCase(), status: 'succeeded', reason: op.reason } }), ...same };
    }
    case 'refund_by_user':
      return { response: refusal(403, 'permission_error', 'forbidden'), ...same };
    case 'confirm': {
      if (op.actor !== 'admin' && op.actor !== p.userId) return notFound;
      if (op.actor !== 'admin' && p.byAdmin && p.status === 'requires_capture') return forbidden;
      if (!['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(p.status)) return unexpectedState;
      const authenticated = p.status === 'requires_action';
      if (authenticated && op.method !== null) return unexpectedState;
      const method = op.method ?? p.held;
      if (method === null) return { response: refusal(400, 'invalid_request_error', 'payment_method_required', 'payment_method'), ...same };
      const error = attempt(model, p, method, authenticated);
      return { response: error !== null ? answer(402, { error, payment: modelSummary(p) }) : answer(200, { payment: modelSummary(p) }), ...same };
    }
  }
}

