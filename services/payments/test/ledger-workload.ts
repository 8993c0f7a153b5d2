// The ledger model's workload: seeded randomness and the operations it chooses from the model's
// state, as plain printable data so that a failure names what to replay. See ledger-model-suite.ts.
export type { Op, RequestStyle } from './ledger-model.ts';
import { type Currency, Model, type Op, type RequestStyle, type ModelPayment, cancellationReasons, currencies, declinedCardNames, goodCards, paymentCeiling, refundReasons, threeDSecureCards } from './ledger-model.ts';

// ---------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32): the same seed gives the same operations, whatever the service
// answers, up to the first disagreement.

export class Random {
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
// Operations: plain data, printable, so that a failure names what to replay.

/** A keyed request already sent, with what it answered. */
export interface SentRequest {
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

export type Weighted = readonly [number, () => Op | undefined];

/** Chooses the next operation from the model's state; undefined choices fall back to an authorisation. */
export function chooseOp(rng: Random, model: Model, userIds: readonly number[], sent: readonly SentRequest[]): Op {
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
