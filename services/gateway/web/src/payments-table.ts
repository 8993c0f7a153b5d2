// A table of payments read from GET /payments, newest first, a page at a time with Stripe's cursor
// (`starting_after` the last id shown): the person's own (payments-page.ts) and, for admins, one
// user's with a refund button (admin-user-page.ts). The columns are the caller's; loading, empty
// and error states and the pager are the same everywhere.
import type { paths, Paymesh, ResponseData } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { formatMoney } from './format-money.ts';
import { timeElement } from './time-element.ts';

export type Payment = ResponseData<'/payments/{id}', 'get'>;
type PaymentsQuery = NonNullable<paths['/payments']['get']['parameters']['query']>;

/** What each status is called on the pages, in the order of a payment's life. */
export const paymentStatusWords: Readonly<Record<Payment['status'], string>> = {
  requires_payment_method: 'Needs a payment method',
  requires_confirmation: 'Needs confirmation',
  requires_action: 'Needs action',
  processing: 'Processing',
  requires_capture: 'Authorised',
  succeeded: 'Succeeded',
  canceled: 'Canceled',
};

export interface PaymentsColumn {
  readonly header: string;
  /** The cell; `rerender` draws the row again with a payment's new state (after a refund, say). */
  cell(payment: Payment, rerender: (updated: Payment) => void): HTMLTableCellElement;
}

/** The columns every payments table has, by name. */
export const paymentColumns = {
  date: { header: 'Date', cell: (p: Payment) => h('td', {}, timeElement(new Date(p.created * 1000))) },
  description: { header: 'Description', cell: (p: Payment) => h('td', {}, p.description ?? '—') },
  amount: { header: 'Amount', cell: (p: Payment) => h('td', { class: 'amount' }, formatMoney(p.amount, p.currency)) },
  refunded: { header: 'Refunded', cell: (p: Payment) => h('td', { class: 'amount' }, formatMoney(p.amount_refunded, p.currency)) },
  status: { header: 'Status', cell: (p: Payment) => h('td', {}, paymentStatusWords[p.status] ?? p.status) },
} satisfies Record<string, PaymentsColumn>;

export interface PaymentsTableOptions {
  /** The table's caption, its accessible name. */
  readonly caption: string;
  readonly columns: readonly PaymentsColumn[];
  /** The query's other parameters (a status filter, an admin's `user_id`). */
  query(): PaymentsQuery;
  /** Said when the first page is empty. */
  emptySentence(): string;
}

export function paymentsTable(paymesh: Paymesh, options: PaymentsTableOptions): { readonly element: HTMLElement; show(pageIndex?: number): Promise<void> } {
  const pageSize = 10;
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const results = h('div');
  const cursors: (string | undefined)[] = [undefined];

  const row = (payment: Payment) => {
    const tr = h('tr');
    const render = (current: Payment) => tr.replaceChildren(...options.columns.map((column) => column.cell(current, render)));
    render(payment);
    return tr;
  };

  const show = async (pageIndex = 0): Promise<void> => {
    if (pageIndex === 0) cursors.length = 1;
    status.textContent = 'Loading payments…';
    results.replaceChildren();
    try {
      const startingAfter = cursors[pageIndex];
      const page = await paymesh.get('/payments', { params: { query: { limit: String(pageSize), ...(startingAfter === undefined ? {} : { starting_after: startingAfter }), ...options.query() } } });
      if (page.data.length === 0) {
        status.textContent = pageIndex === 0 ? options.emptySentence() : 'No more payments.';
        return;
      }
      status.textContent = `Showing ${page.data.length} payment${page.data.length === 1 ? '' : 's'}, page ${pageIndex + 1}.`;
      const table = h('table', {},
        h('caption', {}, options.caption),
        h('thead', {}, h('tr', {}, ...options.columns.map((column) => h('th', { scope: 'col' }, column.header)))),
        h('tbody', {}, ...page.data.map(row)));
      const nav = h('nav', { 'aria-label': 'Payments pages', class: 'pager' });
      if (pageIndex > 0) nav.append(h('button', { type: 'button', onclick: () => void show(pageIndex - 1) }, 'Previous'));
      if (page.has_more) {
        cursors[pageIndex + 1] = page.data.at(-1)!.id;
        nav.append(h('button', { type: 'button', onclick: () => void show(pageIndex + 1) }, 'Next'));
      }
      results.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': `${options.caption} (scrolls sideways on a narrow screen)` }, table), nav);
    } catch (error) {
      status.textContent = '';
      results.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  };
  return { element: h('div', {}, status, results), show };
}
