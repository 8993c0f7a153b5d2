// The model-based audit of the ledger, in the spirit of TigerBeetle's: a seeded pseudo-random
// workload of thousands of operations (card payments, authorisations, full and partial captures,
// cancels, refunds, top-ups, wallet payments, declines, 3-D Secure, created-then-confirmed payments,
// Idempotency-Key replays and invalid requests) goes through the
// public HTTP API, and an independent in-memory model, written from the money rules and not from
// the service's code, predicts every answer: the HTTP status and error, the payment's amounts and
// status, and the balances (posted and pending, debits and credits) of every account it touches.
// After each step the response, the payment row and the touched accounts are compared with the
// model; every CHECK_EVERY steps and at the end the ledger invariants must hold and every account,
// every payment, the transfers and the wallets must equal the model's.
//
// Replay a failure with its seed: LEDGER_MODEL_SEED=<seed> node --test services/payments/test/ledger-model.test.ts
// (LEDGER_MODEL_SEED=random picks one; LEDGER_MODEL_STEPS changes the number of operations.)
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { backends, startTestPlatform, type ApiResponse, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '../src/ledger/check-invariants.ts';

const DEFAULT_SEED = 20_240_611;
const seedSetting = process.env.LEDGER_MODEL_SEED;
const SEED = seedSetting === undefined || seedSetting === '' ? DEFAULT_SEED : seedSetting === 'random' ? randomInt(2 ** 31) : Number(seedSetting);
if (!Number.isSafeInteger(SEED) || SEED < 0 || SEED >= 2 ** 32) throw new Error(`LEDGER_MODEL_SEED must be an integer from 0 to 2^32-1 or "random", not ${seedSetting}`);
const STEPS = Number(process.env.LEDGER_MODEL_STEPS ?? 2_000);
if (!Number.isSafeInteger(STEPS) || STEPS < 1) throw new Error(`LEDGER_MODEL_STEPS must be a positive integer, not ${process.env.LEDGER_MODEL_STEPS}`);
const CHECK_EVERY = 200;
const USER_COUNT = 4;

// ---------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32): the same seed gives the same operations, whatever the service
// answers, up to the first disagreement.

class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }
  /** An integer from lo to hi, both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((sum, [w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [w, value] of choices) {
      if (r < w) return value;
      r -= w;
    }
    return choices[choices.length - 1]![1];
  }
}

// ---------------------------------------------------------------------------------------------
// The rules, as the API documents them.

type Currency = 'USD' | 'JPY';
const currencies: readonly Currency[] = ['USD', 'JPY'];
const exponents: Record<Currency, number> = { USD: 2, JPY: 0 };
/** Upper bound of a random payment amount, in minor units: $400.00 and ¥40,000. */
const paymentCeiling: Record<Currency, number> = { USD: 40_000, JPY: 40_000 };

type Status = 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'processing' | 'requires_capture' | 'succeeded' | 'canceled';

/** Stripe's test payment methods: the ones that succeed, and what the others are declined with. */
const goodCards = ['pm_card_visa', 'card:4242424242424242', 'card:5555555555554444'] as const;
/** Cards that ask for 3-D Secure: the first attempt requires_action; confirming again (authenticated) authorises. */
const threeDSecureCards = ['pm_card_authenticationRequired', 'card:4000002760003184'] as const;
const declinedCards: Record<string, { code: string; decline_code: string }> = {
  pm_card_visa_chargeDeclined: { code: 'card_declined', decline_code: 'generic_decline' },
  pm_card_visa_chargeDeclinedInsufficientFunds: { code: 'card_declined', decline_code: 'insufficient_funds' },
  pm_card_chargeDeclinedExpiredCard: { code: 'expired_card', decline_code: 'expired_card' },
  pm_card_chargeDeclinedIncorrectCvc: { code: 'incorrect_cvc', decline_code: 'incorrect_cvc' },
  pm_card_chargeDeclinedProcessingError: { code: 'processing_error', decline_code: 'processing_error' },
  'card:4000000000000002': { code: 'card_declined', decline_code: 'generic_decline' },
  'card:4000000000009995': { code: 'card_declined', decline_code: 'insufficient_funds' },
};
const declinedCardNames = Object.keys(declinedCards);
const cancellationReasons = ['duplicate', 'fraudulent', 'requested_by_customer', 'abandoned'] as const;
const refundReasons = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

const code = {
  clearing: (c: Currency) => `system:processor_clearing:${c}`,
  revenue: (c: Currency) => `system:platform_revenue:${c}`,
  refunds: (c: Currency) => `system:refunds:${c}`,
  wallet: (userId: number, c: Currency) => `user:${userId}:wallet:${c}`,
};

/** A payment-method name of the workload as the API takes it: "wallet", a test pm id or card details. */
function methodJson(name: string): unknown {
  if (!name.startsWith('card:')) return name;
  return { number: name.slice('card:'.length), exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123' };
}

function decimal(minor: number, currency: Currency): string {
  const exponent = exponents[currency];
  if (exponent === 0) return String(minor);
  const digits = String(minor).padStart(exponent + 1, '0');
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

function display(minor: number, currency: Currency): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(minor / 10 ** exponents[currency]);
}

// ---------------------------------------------------------------------------------------------
// The model.

interface Account {
  debitsPosted: number;
  creditsPosted: number;
  debitsPending: number;
  creditsPending: number;
}
const zero = (): Account => ({ debitsPosted: 0, creditsPosted: 0, debitsPending: 0, creditsPending: 0 });

interface Hold {
  readonly debit: string;
  readonly credit: string;
  readonly amount: number;
  readonly kind: TransferKind;
}
type TransferKind = 'payment' | 'refund' | 'top_up';

interface ModelPayment {
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

interface PaymentSummary {
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

function modelSummary(p: ModelPayment): PaymentSummary {
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

interface ResponseSummary {
  status: number;
  error: { type: string; code: string; decline_code: string | null; param: string | null } | null;
  /** POST /payments answers {success, message, payment}. */
  created: { success: boolean; message: string } | null;
  payment: PaymentSummary | null;
  refund: { object: string; payment_id: string; amount: number; currency: string; status: string; reason: string | null } | null;
  topUp: { object: string; user_id: number; amount: number; currency: string; status: string } | null;
}

const answer = (status: number, parts: Partial<ResponseSummary> = {}): ResponseSummary => ({ status, error: null, created: null, payment: null, refund: null, topUp: null, ...parts });
const refusal = (status: number, type: string, errorCode: string, param: string | null = null, declineCode: string | null = null): ResponseSummary =>
  answer(status, { error: { type, code: errorCode, decline_code: declineCode, param } });

class Model {
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

// ---------------------------------------------------------------------------------------------
// Operations: plain data, printable, so that a failure names what to replay.

type Op =
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
interface RequestStyle {
  readonly asNumber: boolean;
  readonly currencyText: string | null;
  readonly captureField: boolean;
}

/** A keyed request already sent, with what it answered. */
interface SentRequest {
  readonly step: number;
  readonly op: Op;
  readonly path: string;
  readonly token: string;
  readonly json: string;
  readonly key: string;
  readonly status: number;
  readonly body: unknown;
  readonly touched: readonly string[];
}

type Weighted = readonly [number, () => Op | undefined];

/** Chooses the next operation from the model's state; undefined choices fall back to an authorisation. */
function chooseOp(rng: Random, model: Model, userIds: readonly number[], sent: readonly SentRequest[]): Op {
  const user = rng.pick(userIds);
  const currency = rng.pick(currencies);
  const asNumber = rng.chance(0.4);
  const r = rng.next();
  const style: RequestStyle = { asNumber, currencyText: currency === 'USD' && r < 0.25 ? null : r < 0.6 ? currency : currency.toLowerCase(), captureField: rng.chance(0.5) };
  const amount = (c: Currency) => (rng.chance(0.1) ? rng.int(1, 99) : rng.int(1, paymentCeiling[c]));
  const actorFor = (p: ModelPayment): number | 'admin' => (rng.chance(0.2) ? 'admin' : p.userId);
  const paymentsWhere = (test: (p: ModelPayment) => boolean) => model.paymentList.filter(test);
  const somePayment = (test: (p: ModelPayment) => boolean) => {
    const found = paymentsWhere(test);
    return found.length === 0 ? undefined : rng.pick(found);
  };
  const card = (capture: 'automatic' | 'manual', method: string, confirm = true): Op =>
    ({ kind: 'card', user, currency, amount: amount(currency), capture, method, confirm, admin: rng.chance(0.15), ...style });
  const anyCapture = () => (rng.chance(0.5) ? 'manual' : 'automatic');

  const choices: Weighted[] = [
    // card payment, automatic capture (sometimes with no method: the configured default card)
    [10, () => card('automatic', rng.chance(0.15) ? 'default' : rng.pick(goodCards))],
    // authorisation (manual capture)
    [13, () => card('manual', rng.pick(goodCards))],
    // declined card
    [5, () => card(rng.chance(0.7) ? 'automatic' : 'manual', rng.pick(declinedCardNames))],
    // a card that asks for 3-D Secure
    [2, () => card(anyCapture(), rng.pick(threeDSecureCards))],
    // created only (confirm: false), with a card, the wallet, or no method yet
    [3, () => {
      const method = rng.weighted<string>([[3, rng.pick(goodCards)], [1, rng.pick(declinedCardNames)], [1, rng.pick(threeDSecureCards)], [3, 'wallet'], [2, 'none']]);
      if (method !== 'wallet') return card(anyCapture(), method, false);
      return { kind: 'wallet_pay', user, currency, amount: amount(currency), capture: anyCapture(), confirm: false, admin: rng.chance(0.15), ...style };
    }],
    // top-up (sometimes with a card that is declined or needs 3-D Secure)
    [11, () => {
      const method = rng.weighted<string>([[8, rng.pick(goodCards)], [1, rng.pick(declinedCardNames)], [1, 'pm_card_authenticationRequired']]);
      return { kind: 'top_up', user, currency, amount: rng.int(1, paymentCeiling[currency] * 2), method, admin: rng.chance(0.2), ...style };
    }],
    // wallet payment around the available balance: under it, exactly it, one over, anything
    [15, () => {
      const available = model.available(user, currency);
      const a = rng.weighted<() => number>([
        [35, () => (available > 0 ? rng.int(1, available) : rng.int(1, 500))],
        [15, () => Math.max(1, available)],
        [15, () => Math.max(0, available) + 1],
        [35, () => amount(currency)],
      ])();
      return { kind: 'wallet_pay', user, currency, amount: a, capture: rng.chance(0.35) ? 'manual' : 'automatic', confirm: true, admin: rng.chance(0.15), ...style };
    }],
    // capture in full (with no amount, or with exactly what is capturable)
    [8, () => {
      const p = somePayment((x) => x.status === 'requires_capture');
      return p && { kind: 'capture', payment: p.id, amount: rng.chance(0.5) ? null : p.capturable, actor: actorFor(p), asNumber };
    }],
    // partial capture
    [7, () => {
      const p = somePayment((x) => x.status === 'requires_capture');
      return p && { kind: 'capture', payment: p.id, amount: p.capturable > 1 ? rng.int(1, p.capturable - 1) : 1, actor: actorFor(p), asNumber };
    }],
    // capture of more than was authorised
    [2, () => {
      const p = somePayment((x) => x.status === 'requires_capture');
      return p && { kind: 'capture', payment: p.id, amount: p.capturable + rng.weighted([[1, 1], [1, rng.int(2, 5_000)]]), actor: actorFor(p), asNumber };
    }],
    // capture of a payment that is not awaiting capture (succeeded, canceled, failed)
    [3, () => {
      const p = somePayment((x) => x.status !== 'requires_capture');
      return p && { kind: 'capture', payment: p.id, amount: rng.chance(0.5) ? null : Math.max(1, p.amount), actor: actorFor(p), asNumber };
    }],
    // cancel of an authorisation, or of a failed payment
    [7, () => {
      const p = rng.chance(0.8) ? somePayment((x) => x.status === 'requires_capture') : somePayment((x) => ['requires_payment_method', 'requires_confirmation', 'requires_action'].includes(x.status));
      return p && { kind: 'cancel', payment: p.id, reason: rng.chance(0.5) ? rng.pick(cancellationReasons) : null, actor: actorFor(p) };
    }],
    // cancel of a succeeded or canceled payment
    [3, () => {
      const p = somePayment((x) => x.status === 'succeeded' || x.status === 'canceled');
      return p && { kind: 'cancel', payment: p.id, reason: null, actor: actorFor(p) };
    }],
    // full refund (no amount)
    [5, () => {
      const p = somePayment((x) => x.status === 'succeeded' && x.received > x.refunded);
      return p && { kind: 'refund', payment: p.id, amount: null, reason: rng.chance(0.3) ? rng.pick(refundReasons) : null, asNumber };
    }],
    // partial refund, or exactly what is left
    [7, () => {
      const p = somePayment((x) => x.status === 'succeeded' && x.received > x.refunded);
      if (p === undefined) return undefined;
      const left = p.received - p.refunded;
      return { kind: 'refund', payment: p.id, amount: rng.chance(0.2) ? left : rng.int(1, left), reason: null, asNumber };
    }],
    // refund of more than is left (nothing left included)
    [4, () => {
      const p = somePayment((x) => x.status === 'succeeded');
      return p && { kind: 'refund', payment: p.id, amount: p.received - p.refunded + rng.weighted([[1, 1], [1, rng.int(2, 5_000)]]), reason: null, asNumber };
    }],
    // refund of a payment that has not succeeded, or one already refunded in full
    [2, () => {
      const p = somePayment((x) => x.status !== 'succeeded' || x.refunded === x.received);
      return p && { kind: 'refund', payment: p.id, amount: rng.chance(0.5) ? null : 1, reason: null, asNumber };
    }],
    // a user may not refund, even their own payment
    [1, () => {
      const p = somePayment((x) => x.status === 'succeeded');
      return p && { kind: 'refund_by_user', payment: p.id, actor: p.userId };
    }],
    // another user's payment is as absent as an unknown one
    [1, () => {
      const p = somePayment(() => true);
      const others = userIds.filter((id) => id !== p?.userId);
      if (p === undefined) return undefined;
      const actor = rng.pick(others);
      return rng.chance(0.5) ? { kind: 'capture', payment: p.id, amount: null, actor, asNumber } : { kind: 'cancel', payment: p.id, reason: null, actor };
    }],
    // retry of a failed payment with another method, or confirm of one in another state
    [4, () => {
      const p = rng.chance(0.8) ? somePayment((x) => x.status === 'requires_payment_method') : somePayment((x) => x.status !== 'requires_payment_method');
      const method = rng.weighted<string | null>([[4, 'wallet'], [4, rng.pick(goodCards)], [1, rng.pick(declinedCardNames)], [1, rng.pick(threeDSecureCards)], [1, null]]);
      return p && { kind: 'confirm', payment: p.id, method, actor: actorFor(p) };
    }],
    // confirm of a created payment with the method it holds, or completion of 3-D Secure (a new method then is refused)
    [4, () => {
      const p = somePayment((x) => x.status === 'requires_confirmation' || x.status === 'requires_action');
      return p && { kind: 'confirm', payment: p.id, method: rng.chance(0.85) ? null : rng.pick(goodCards), actor: actorFor(p) };
    }],
    // the same request again with its Idempotency-Key: the first answer, nothing moves again
    [3, () => {
      const candidates = sent.slice(-50);
      return candidates.length === 0 ? undefined : { kind: 'replay', step: rng.pick(candidates).step };
    }],
  ];
  return rng.weighted(choices)() ?? card('manual', 'pm_card_visa');
}

/** The model's prediction for an operation; the model is updated as the service should be. */
interface Prediction {
  readonly response: ResponseSummary;
  /** The payment the operation concerns (new or existing), as the model now has it. */
  readonly payment: ModelPayment | undefined;
  readonly isNew: boolean;
  /** The accounts whose balances the step checks. */
  readonly touched: readonly string[];
}

function accountsOf(userId: number, currency: Currency): string[] {
  return [code.clearing(currency), code.revenue(currency), code.refunds(currency), code.wallet(userId, currency)];
}

/**
 * One attempt to pay with `method` (a card that asks for 3-D Secure is authorised once `authenticated`):
 * the model's ledger moves and the payment's new fields. Returns the error if refused.
 */
function attempt(model: Model, p: ModelPayment, method: string, authenticated: boolean): ResponseSummary['error'] {
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

function predict(model: Model, op: Op): Prediction {
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

// ---------------------------------------------------------------------------------------------
// The service's side, summarised in the model's terms.

function paymentSummary(payment: any): PaymentSummary {
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

function responseSummary(op: Op, response: ApiResponse): ResponseSummary {
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
function responsePaymentId(response: ApiResponse): string | undefined {
  const body = response.body;
  return body?.payment?.id ?? body?.error?.payment?.id ?? (body?.object === 'payment' ? body.id : undefined);
}

interface AccountRow {
  code: string;
  currency: string;
  user_id: string | null;
  no_overdraft: boolean;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
}

const fromRow = (r: AccountRow): Account => ({
  debitsPosted: Number(r.debits_posted),
  creditsPosted: Number(r.credits_posted),
  debitsPending: Number(r.debits_pending),
  creditsPending: Number(r.credits_pending),
});

interface PaymentDbRow {
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

const paymentRowSummary = (r: PaymentDbRow): PaymentSummary => ({
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

const paymentRowColumns = sql.raw(`id, user_id, amount_minor, currency, status, capture_method, amount_capturable, amount_received, amount_refunded,
  payment_method_type, last_payment_error->>'code' as last_error, cancellation_reason, canceled_at is not null as canceled`);

// ---------------------------------------------------------------------------------------------

for (const backend of backends()) {
  describe(`ledger model audit (${backend})`, () => {
    let platform: TestPlatform;
    let db: Db;
    let adminToken: string;
    const tokens = new Map<number, string>();
    let userIds: number[] = [];

    before(async () => {
      platform = await startTestPlatform(backend);
      db = platform.embedded!.services.payments.runtime.database.db;
      adminToken = await platform.api.adminToken();
      for (let i = 0; i < USER_COUNT; i++) {
        const user = await platform.api.signUp();
        tokens.set(user.id, user.token);
      }
      userIds = [...tokens.keys()];
    });
    after(async () => {
      await platform?.stop();
    });

    const tokenOf = (actor: number | 'admin') => (actor === 'admin' ? adminToken : tokens.get(actor)!);

    /** A JSON body whose amount field is sent as JSON number text (exact) or as a decimal string. */
    const withAmount = (fields: Record<string, unknown>, name: string, minor: number | null, currency: Currency, asNumber: boolean): string => {
      if (minor === null) return JSON.stringify(fields);
      const text = decimal(minor, currency);
      if (!asNumber) return JSON.stringify({ [name]: text, ...fields });
      const rest = JSON.stringify(fields).slice(1, -1);
      return `{"${name}": ${text}${rest === '' ? '' : `, ${rest}`}}`;
    };
    const currencyField = (style: RequestStyle) => (style.currencyText === null ? {} : { currency: style.currencyText });

    /** The request an operation sends (a replay is handled by the loop). */
    function requestFor(op: Exclude<Op, { kind: 'replay' }>, model: Model): { path: string; token: string; json: string } {
      switch (op.kind) {
        case 'card':
        case 'wallet_pay': {
          const method = op.kind === 'wallet_pay' ? 'wallet' : op.method;
          const fields: Record<string, unknown> = {
            user_id: op.user,
            ...currencyField(op),
            ...(method === 'default' || method === 'none' ? {} : { payment_method: methodJson(method) }),
            ...(op.capture === 'automatic' && !op.captureField ? {} : { capture_method: op.capture }),
            ...(op.confirm ? {} : { confirm: false }),
          };
          return { path: '/payments', token: op.admin ? adminToken : tokens.get(op.user)!, json: withAmount(fields, 'amount', op.amount, op.currency, op.asNumber) };
        }
        case 'top_up': {
          const fields = { ...currencyField(op), payment_method: methodJson(op.method), ...(op.admin ? { user_id: op.user } : {}) };
          return { path: '/wallet/top-ups', token: op.admin ? adminToken : tokens.get(op.user)!, json: withAmount(fields, 'amount', op.amount, op.currency, op.asNumber) };
        }
        case 'capture': {
          const currency = model.payments.get(op.payment)!.currency;
          return { path: `/payments/${op.payment}/capture`, token: tokenOf(op.actor), json: withAmount({}, 'amount_to_capture', op.amount, currency, op.asNumber) };
        }
        case 'cancel':
          return { path: `/payments/${op.payment}/cancel`, token: tokenOf(op.actor), json: JSON.stringify(op.reason === null ? {} : { cancellation_reason: op.reason }) };
        case 'refund': {
          const currency = model.payments.get(op.payment)!.currency;
          return { path: `/payments/${op.payment}/refunds`, token: adminToken, json: withAmount(op.reason === null ? {} : { reason: op.reason }, 'amount', op.amount, currency, op.asNumber) };
        }
        case 'refund_by_user':
          return { path: `/payments/${op.payment}/refunds`, token: tokenOf(op.actor), json: '{}' };
        case 'confirm':
          return { path: `/payments/${op.payment}/confirm`, token: tokenOf(op.actor), json: JSON.stringify(op.method === null ? {} : { payment_method: methodJson(op.method) }) };
      }
    }

    async function accountRows(codes?: readonly string[]): Promise<Map<string, AccountRow>> {
      const where = codes === undefined ? sql`true` : sql`code in (${sql.join(codes.map((c) => sql`${c}`), sql`, `)})`;
      const rows = await queryRows<AccountRow>(db, sql`select code, currency, user_id::text as user_id, no_overdraft,
        debits_posted::text as debits_posted, credits_posted::text as credits_posted, debits_pending::text as debits_pending, credits_pending::text as credits_pending
        from ledger_accounts where ${where}`);
      return new Map(rows.map((r) => [r.code, r]));
    }

    /** Accounts compared as balances; an account the service never created has zero balances. */
    function compareAccounts(model: Model, codes: Iterable<string>, rows: Map<string, AccountRow>, where: string) {
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
    async function audit(model: Model, where: string) {
      assert.deepEqual(await checkLedgerInvariants(db), [], `${where}: ledger invariants`);

      const rows = await accountRows();
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
        const wallet = await platform.api.call('GET', `/wallet/${userId}`, { token: adminToken });
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

    test('every response, payment and touched account equals an independent model\'s, step after step, and the ledger invariants hold throughout', async (t) => {
      const rng = new Random(SEED);
      const model = new Model();
      const replay = `replay with LEDGER_MODEL_SEED=${SEED} (backend ${backend})`;
      t.diagnostic(`ledger model: seed ${SEED}, ${STEPS} operations, ${USER_COUNT} users, ${currencies.join(' and ')} (${replay})`);
      const started = performance.now();
      const counts = new Map<string, number>();

      const sent: SentRequest[] = [];
      const sentByStep = new Map<number, SentRequest>();
      for (let step = 1; step <= STEPS; step++) {
        const op = chooseOp(rng, model, userIds, sent);
        const where = `seed ${SEED}, step ${step}/${STEPS}, operation ${JSON.stringify(op)}; ${replay}`;

        if (op.kind === 'replay') {
          // Stripe's idempotency: the first answer again, marked as a replay, and nothing moves.
          const first = sentByStep.get(op.step)!;
          const response = await platform.api.call('POST', first.path, { token: first.token, json: first.json, headers: { 'idempotency-key': first.key } });
          counts.set(`replay:${response.status}`, (counts.get(`replay:${response.status}`) ?? 0) + 1);
          assert.deepEqual(
            { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: response.body },
            { status: first.status, replayed: 'true', body: first.body },
            `${where}: the replay of step ${op.step} (${JSON.stringify(first.op)}) differs from its first answer`,
          );
          compareAccounts(model, first.touched, await accountRows(first.touched), where);
          const [row] = await queryRows<{ n: string }>(db, sql`select count(*)::text as n from payments`);
          assert.equal(Number(row!.n), model.payments.size, `${where}: a replay creates no payment`);
          if (step % CHECK_EVERY === 0 || step === STEPS) await audit(model, `${where} (full audit)`);
          continue;
        }

        const keyed = op.kind !== 'refund_by_user' && rng.chance(0.3);
        const key = `model-${SEED}-${step}`;
        const at = keyed ? `${where} (sent with Idempotency-Key ${key})` : where;
        const request = requestFor(op, model);
        const prediction = predict(model, op);
        const response = await platform.api.call('POST', request.path, { token: request.token, json: request.json, headers: keyed ? { 'idempotency-key': key } : {} });
        const outcome = `${op.kind}:${response.status}${response.body?.error ? `:${response.body.error.code}` : ''}`;
        counts.set(outcome, (counts.get(outcome) ?? 0) + 1);

        assert.deepEqual(responseSummary(op, response), prediction.response, `${at}: the response differs from the model's (body ${JSON.stringify(response.body)})`);

        const p = prediction.payment;
        if (p !== undefined) {
          const id = responsePaymentId(response);
          if (prediction.isNew) {
            assert.ok(typeof id === 'string' && !model.payments.has(id), `${at}: a new payment id in the response`);
            p.id = id;
            model.add(p);
          } else if (id !== undefined) {
            assert.equal(id, p.id, `${at}: the response shows the payment acted on`);
          }
          const [row] = await queryRows<PaymentDbRow>(db, sql`select ${paymentRowColumns} from payments where id = ${p.id}`);
          assert.ok(row !== undefined, `${at}: payment ${p.id} is stored`);
          assert.deepEqual(paymentRowSummary(row), modelSummary(p), `${at}: the stored payment differs from the model's`);
        }
        compareAccounts(model, prediction.touched, await accountRows(prediction.touched), at);

        if (keyed) {
          const entry = { step, op, ...request, key, status: response.status, body: response.body, touched: prediction.touched };
          sent.push(entry);
          sentByStep.set(step, entry);
        }
        if (step % CHECK_EVERY === 0 || step === STEPS) await audit(model, `${at} (full audit)`);
      }

      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(`ledger model: ${STEPS} operations on ${backend} in ${seconds.toFixed(1)} s (${((seconds * 1000) / STEPS).toFixed(1)} ms each), ${model.payments.size} payments`);
      t.diagnostic(`outcomes: ${[...counts].sort().map(([k, n]) => `${k}=${n}`).join(' ')}`);
      // The workload reached what it is meant to: successes and refusals of each kind.
      for (const expected of ['card:200', 'card:402:card_declined', 'wallet_pay:200', 'wallet_pay:402:balance_insufficient', 'capture:200', 'capture:400:amount_too_large',
        'capture:400:payment_unexpected_state', 'cancel:200', 'cancel:400:payment_unexpected_state', 'refund:200', 'refund:400:amount_too_large', 'top_up:200', 'confirm:200', 'replay:200', 'replay:402']) {
        if (STEPS >= 2_000) assert.ok((counts.get(expected) ?? 0) > 0, `the workload never produced ${expected} (seed ${SEED})`);
      }
    });
  });
}
