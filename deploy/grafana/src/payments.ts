// payments: what the business sees (volume, money in and out, declines), what keeps it safe
// (idempotent replays, the ledger checks) and the SLOs of POST /payments as error-budget burn rates.
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { paymeshDashboard } from './paymesh-dashboard.ts';
import { query, stat, timeseries } from './panels.ts';
import { increaseOf, quantileOf, rateOf, series } from './promql.ts';

/** The SLOs' error budgets (docs/observability.md): 0.1% of answers may be 5xx, 1% slower than 300 ms. */
const availabilityBudget = 0.001;
const latencyBudget = 0.01;
const sloWindows = ['5m', '30m', '1h', '6h'];

/** A recorded SLO ratio over each window, divided by its budget: 1 spends the budget in exactly 30 days. */
function burnRates(rule: string, budget: number) {
  return sloWindows.map((window) => query(`${series(`${rule}${window}`)} / ${budget}`, window));
}

export function payments(): Dashboard {
  return paymeshDashboard({
    uid: 'paymesh-payments',
    title: 'Paymesh / Payments',
    description: 'Payment volume and amounts by currency and status, declines, idempotent replays, refunds, the ledger checks and the burn rates of the POST /payments SLOs.',
    rows: {
      Volume: [
        timeseries({
          title: 'Payments by status',
          description: 'Payments reaching each status per second (succeeded, failed, requires_action, …).',
          unit: 'ops',
          queries: [query(`sum by (status) (${rateOf('payments_total')})`, '{{status}}')],
        }),
        timeseries({
          title: 'Payments by currency',
          description: 'Payments reaching any status per second, by currency.',
          unit: 'ops',
          queries: [query(`sum by (currency) (${rateOf('payments_total')})`, '{{currency}}')],
        }),
        timeseries({
          title: 'Amount received by currency',
          description: 'Money received, in minor units of the currency (cents for USD) per second.',
          unit: 'short',
          width: 24,
          queries: [query(`sum by (currency) (${rateOf('payment_amount_minor_total')})`, '{{currency}}')],
        }),
      ],
      Refunds: [
        timeseries({
          title: 'Amount refunded by currency',
          description: 'Money refunded, in minor units of the currency per second.',
          unit: 'short',
          queries: [query(`sum by (currency) (${rateOf('refund_amount_minor_total')})`, '{{currency}}')],
        }),
        timeseries({
          title: 'Refund requests by status class',
          description: 'POST /payments/:id/refunds answered per second at the payments service, by status class: 4xx are refusals (more than was captured, a payment not refundable).',
          unit: 'reqps',
          queries: [query(`sum by (status_class) (${rateOf('http_server_requests_total', 'service="payments", method="POST", route="/payments/:id/refunds"')})`, '{{status_class}}')],
        }),
      ],
      'Declines and replays': [
        timeseries({
          title: 'Declines by code',
          description: 'Payments the processor declined, by decline code (insufficient_funds, card_declined, …): a rise of one code points at a card range or a processor rule, not at us.',
          unit: 'ops',
          queries: [query(`sum by (code) (${rateOf('payment_declines_total')})`, '{{code}}')],
        }),
        timeseries({
          title: 'Idempotent replays by route',
          description: 'Requests answered from the stored first answer because their Idempotency-Key was seen before: clients retrying.',
          unit: 'reqps',
          queries: [query(`sum by (route) (${rateOf('idempotent_replays_total')})`, '{{route}}')],
        }),
      ],
      Ledger: [
        timeseries({
          title: 'Ledger checks by result',
          description: 'Scheduled ledger invariant checks in each interval, by result (ok, violated).',
          unit: 'short',
          queries: [query(`sum by (result) (${increaseOf('ledger_invariant_checks_total')})`, '{{result}}')],
          width: 18,
        }),
        stat({
          title: 'Ledger violations',
          description: 'Violations found by the last check. Anything but 0 pages (LedgerInvariantViolated; runbook ledger-invariant).',
          unit: 'short',
          queries: [query(`max(${series('ledger_invariant_violations')})`, 'violations')],
          redFrom: 1,
        }),
      ],
      'SLO: POST /payments': [
        timeseries({
          title: 'Availability budget burn rate',
          description: 'Share of 5xx answers over each window divided by the 0.1% budget: 1 spends the 30-day budget in 30 days. Pages when 1h and 5m are both above 14.4, or 6h and 30m both above 6.',
          unit: 'short',
          queries: burnRates('slo:payments_availability_errors:ratio_rate', availabilityBudget),
          redFrom: 6,
        }),
        timeseries({
          title: 'Latency budget burn rate',
          description: 'Share of answers slower than 300 ms over each window divided by the 1% budget. Pages when 1h and 5m are both above 14.4, or 6h and 30m both above 6.',
          unit: 'short',
          queries: burnRates('slo:payments_latency_slow:ratio_rate', latencyBudget),
          redFrom: 6,
        }),
        timeseries({
          title: 'POST /payments answer time p95',
          description: 'At the payments service (what the SLO measures) and at the gateway in front of it. The latency SLO wants 99% under 0.3 s.',
          unit: 's',
          queries: [query(quantileOf(0.95, 'http_server_request_duration_seconds', ['service'], 'method="POST", route="/payments"'), '{{service}}')],
          redFrom: 0.3,
          width: 24,
        }),
      ],
    },
  });
}
