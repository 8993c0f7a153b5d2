// The signed-in person's payments (GET /payments through the SDK), newest first, a page at a time
// with Stripe's cursor (`starting_after` the last id shown), amounts in the currency's format.
import type { Paymesh } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { formatMoney } from './format-money.ts';
import { paymentStatusFilter } from './payment-status-filter.ts';

const pageSize = 10;

export const statusWords: Record<string, string> = {
  requires_payment_method: 'Needs a payment method',
  requires_confirmation: 'Needs confirmation',
  requires_action: 'Needs action',
  processing: 'Processing',
  requires_capture: 'Authorised',
  succeeded: 'Succeeded',
  canceled: 'Canceled',
};

export function paymentsPage(paymesh: Paymesh): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const results = h('div');
  const cursors: (string | undefined)[] = [undefined];
  const filter = paymentStatusFilter(statusWords, () => {
    cursors.length = 1;
    void show(0);
  });
  const section = h('section', { 'aria-labelledby': 'payments-heading' }, h('h1', { id: 'payments-heading' }, 'Payments'), filter.element, status, results);
  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

  const show = async (pageIndex: number) => {
    status.textContent = 'Loading payments…';
    results.replaceChildren();
    try {
      const startingAfter = cursors[pageIndex];
      const page = await paymesh.get('/payments', { params: { query: { limit: String(pageSize), ...(startingAfter === undefined ? {} : { starting_after: startingAfter }), ...filter.query() } } });
      if (page.data.length === 0 && pageIndex === 0) {
        status.textContent = filter.query().status === undefined ? 'You have not made any payments yet.' : 'No payments have this status.';
        return;
      }
      status.textContent = `Showing ${page.data.length} payment${page.data.length === 1 ? '' : 's'}, page ${pageIndex + 1}.`;
      const rows = page.data.map((payment) => {
        const created = new Date(payment.created * 1000);
        return h('tr', {},
          h('td', {}, h('time', { datetime: created.toISOString(), title: created.toISOString() }, dateFormat.format(created))),
          h('td', {}, payment.description ?? '—'),
          h('td', { class: 'amount' }, formatMoney(payment.amount, payment.currency)),
          h('td', {}, statusWords[payment.status] ?? payment.status),
          h('td', {}, h('a', { href: `/app/payments/${encodeURIComponent(payment.id)}` }, h('code', {}, payment.id))));
      });
      const table = h('table', {},
        h('caption', {}, 'Your payments'),
        h('thead', {}, h('tr', {}, ...['Date', 'Description', 'Amount', 'Status', 'ID'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...rows));
      const nav = h('nav', { 'aria-label': 'Payments pages', class: 'pager' });
      if (pageIndex > 0) nav.append(h('button', { type: 'button', onclick: () => void show(pageIndex - 1) }, 'Previous'));
      if (page.has_more) {
        cursors[pageIndex + 1] = page.data.at(-1)!.id;
        nav.append(h('button', { type: 'button', onclick: () => void show(pageIndex + 1) }, 'Next'));
      }
      results.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Your payments (scrolls sideways on a narrow screen)' }, table), nav);
    } catch (error) {
      status.textContent = '';
      results.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  };
  void show(0);
  return section;
}
