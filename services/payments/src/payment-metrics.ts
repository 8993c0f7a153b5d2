// The payments service's Prometheus metrics.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { PaymentRow } from './payments/payment.ts';

/**
 * The decline codes a dashboard tells apart: those of the built-in test processor (docs/processors.md).
 * Any other code a processor answers counts as `other`, so that a new one cannot add series.
 */
const knownDeclineCodes = new Set(['generic_decline', 'insufficient_funds', 'expired_card', 'incorrect_cvc', 'processing_error']);

export class PaymentMetrics {
  /** payment_request_count (the compatibility contract keeps its name) and its conventional twin. */
  readonly requests: { inc(): void };
  readonly payments: Counter<'status' | 'currency'>;
  readonly received: Counter<'currency'>;
  readonly refunded: Counter<'currency'>;
  readonly replays: Counter<'route'>;
  readonly takeovers: Counter<'route'>;
  readonly resumedAttempts: Counter<'operation'>;
  readonly reconciledAttempts: Counter<'operation' | 'action'>;
  readonly invariantChecks: Counter<'result'>;
  readonly invariantViolations: Gauge;
  readonly declines: Counter<'code'>;

  constructor(registry: Registry) {
    const registers = [registry];
    // The seed's name breaks the convention (a counter ends in _total) but dashboards and the
    // compatibility contract read it; payment_requests_total counts the same requests.
    const legacy = new Counter({ name: 'payment_request_count', help: 'Payment requests received (POST /payments), refused ones included. Kept for compatibility: same value as payment_requests_total.', registers });
    const twin = new Counter({ name: 'payment_requests_total', help: 'Payment requests received (POST /payments), refused ones included.', registers });
    this.requests = { inc: () => { legacy.inc(); twin.inc(); } };
    this.payments = new Counter({ name: 'payments_total', help: 'Payments reaching a status (a failed attempt counts as status "failed"), by currency.', labelNames: ['status', 'currency'], registers });
    this.received = new Counter({ name: 'payment_amount_minor_total', help: 'Money received by payments (captured), in minor units of its currency.', labelNames: ['currency'], registers });
    this.refunded = new Counter({ name: 'refund_amount_minor_total', help: 'Money refunded, in minor units of its currency.', labelNames: ['currency'], registers });
    this.replays = new Counter({ name: 'idempotent_replays_total', help: 'POSTs answered from a stored response (same Idempotency-Key, same parameters), by route.', labelNames: ['route'], registers });
    this.takeovers = new Counter({ name: 'idempotency_lease_takeovers_total', help: 'Idempotency-Keys taken over by a retry after the lease of the request holding them lapsed (its process died), by route.', labelNames: ['route'], registers });
    this.resumedAttempts = new Counter({ name: 'processor_attempts_resumed_total', help: 'Processor attempts of a request that died, resumed by its retry with the same processor idempotency key, by operation.', labelNames: ['operation'], registers });
    this.reconciledAttempts = new Counter({ name: 'processor_attempts_reconciled_total', help: 'Processor attempts nobody recorded, settled by the reconciler, by operation and what was done (voided, refunded, captured, nothing).', labelNames: ['operation', 'action'], registers });
    this.invariantChecks = new Counter({ name: 'ledger_invariant_checks_total', help: 'Scheduled checks of the ledger invariants, by result (ok or violated).', labelNames: ['result'], registers });
    this.invariantViolations = new Gauge({ name: 'ledger_invariant_violations', help: 'Invariant violations found by the last check (0 is the only acceptable value).', registers });
    this.declines = new Counter({ name: 'payment_declines_total', help: 'Card attempts (payments and wallet top-ups) the processor declined, by decline code (generic_decline, insufficient_funds, expired_card, incorrect_cvc, processing_error, other).', labelNames: ['code'], registers });
  }

  /** Counts what a committed change did to a payment. */
  recordPayment(row: PaymentRow, receivedNow = 0n): void {
    const currency = row.currency.trim();
    const failed = row.status === 'requires_payment_method' && row.last_payment_error !== null;
    this.payments.inc({ status: failed ? 'failed' : row.status, currency });
    if (receivedNow > 0n) this.received.inc({ currency }, Number(receivedNow));
  }

  /** Counts a card attempt the processor declined, by its decline code. */
  recordDecline(declineCode: string): void {
    this.declines.inc({ code: knownDeclineCodes.has(declineCode) ? declineCode : 'other' });
  }
}
