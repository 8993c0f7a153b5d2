// One payment (GET /payments/:id): its amounts, status, method and dates, and its refunds
// (GET /payments/:id/refunds), newest first. Reached from a row of the payments list, or from the
// pay page after a payment.
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { cardBrandNames } from './card-entry.ts';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { formatMoney } from './format-money.ts';
import { paymentStatusWords as statusWords } from './payments-table.ts';
import { timeElement } from './time-element.ts';

type Payment = ResponseData<'/payments/{id}', 'get'>;
type Refund = ResponseData<'/payments/{id}/refunds', 'get'>['data'][number];

const refundStatusWords: Readonly<Record<string, string>> = { pending: 'Pending', succeeded: 'Succeeded', failed: 'Failed' };
const reasonWords: Readonly<Record<string, string>> = { duplicate: 'Duplicate', fraudulent: 'Fraudulent', requested_by_customer: 'Requested by the customer', abandoned: 'Abandoned' };

export function paymentDetailPage(paymesh: Paymesh, id: string): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' }, 'Loading the payment…');
  const body = h('div');
  const section = h('section', { 'aria-labelledby': 'payment-heading' },
    h('p', {}, h('a', { href: '/app/payments' }, 'Back to your payments')),
    h('h1', { id: 'payment-heading' }, 'Payment'), status, body);

  const load = async () => {
    try {
      const [payment, refunds] = await Promise.all([
        paymesh.get('/payments/{id}', { params: { path: { id } } }),
        paymesh.get('/payments/{id}/refunds', { params: { path: { id } } }),
      ]);
      status.textContent = '';
      body.replaceChildren(facts(payment), refundList(refunds.data, refunds.has_more));
    } catch (error) {
      status.textContent = '';
      body.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  };
  void load();
  return section;
}

function facts(payment: Payment): HTMLElement {
  const money = (minor: number) => formatMoney(minor, payment.currency);
  const rows: [string, Node | string][] = [
    ['Amount', money(payment.amount)],
    ['Status', statusWords[payment.status] ?? payment.status],
    ['Created', timeElement(new Date(payment.created * 1000))],
    ['Description', payment.description ?? '—'],
    ['Payment method', methodWords(payment.payment_method)],
    ['Received', money(payment.amount_received)],
    ['Refunded', money(payment.amount_refunded)],
  ];
  if (payment.amount_capturable > 0) rows.push(['Authorised, not captured', money(payment.amount_capturable)]);
  rows.push(['Capture', payment.capture_method === 'manual' ? 'Manual (authorise now, capture later)' : 'Automatic']);
  if (payment.last_payment_error !== null) rows.push(['Last error', payment.last_payment_error.message]);
  if (payment.canceled_at !== null) rows.push(['Canceled', timeElement(new Date(payment.canceled_at * 1000))]);
  if (payment.cancellation_reason !== null) rows.push(['Cancellation reason', reasonWords[payment.cancellation_reason] ?? payment.cancellation_reason]);
  rows.push(['Payment ID', h('code', {}, payment.id)]);
  return h('section', { class: 'panel', 'aria-labelledby': 'payment-facts-heading' },
    h('h2', { id: 'payment-facts-heading' }, `${money(payment.amount)} · ${statusWords[payment.status] ?? payment.status}`),
    h('dl', { class: 'facts' }, ...rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])));
}

function methodWords(method: Payment['payment_method']): string {
  if (method === null) return 'None yet';
  if (method.type === 'wallet') return 'Wallet balance';
  const month = String(method.card.exp_month).padStart(2, '0');
  return `${cardBrandNames[method.card.brand] || 'Card'} ending in ${method.card.last4}, expires ${month}/${String(method.card.exp_year).slice(-2)}`;
}

function refundList(refunds: readonly Refund[], hasMore: boolean): HTMLElement {
  const section = h('section', { 'aria-labelledby': 'refunds-heading' }, h('h2', { id: 'refunds-heading' }, 'Refunds'));
  if (refunds.length === 0) {
    section.append(h('p', {}, 'This payment has no refunds.'));
    return section;
  }
  const rows = refunds.map((refund) => h('tr', {},
    h('td', {}, timeElement(new Date(refund.created * 1000))),
    h('td', { class: 'amount' }, formatMoney(refund.amount, refund.currency)),
    h('td', {}, refundStatusWords[refund.status] ?? refund.status, refund.failure_reason === null ? '' : ` (${refund.failure_reason})`),
    h('td', {}, refund.reason === null ? '—' : reasonWords[refund.reason] ?? refund.reason),
    h('td', {}, h('code', {}, refund.id))));
  section.append(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Refunds of this payment' }, h('table', {},
    h('caption', {}, 'Refunds of this payment'),
    h('thead', {}, h('tr', {}, ...['Date', 'Amount', 'Status', 'Reason', 'ID'].map((label) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, ...rows))));
  if (hasMore) section.append(h('p', { class: 'hint' }, 'Only the most recent refunds are shown.'));
  return section;
}
