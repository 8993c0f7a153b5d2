// The signed-in person's payments (payments-table.ts), filtered by status, each linked to its page.
import type { Paymesh } from '@paymesh/sdk';
import { h } from './element.ts';
import { paymentStatusFilter } from './payment-status-filter.ts';
import { paymentColumns, paymentStatusWords, paymentsTable } from './payments-table.ts';

export function paymentsPage(paymesh: Paymesh): HTMLElement {
  const filter = paymentStatusFilter(paymentStatusWords, () => void table.show());
  const table = paymentsTable(paymesh, {
    caption: 'Your payments',
    columns: [paymentColumns.date, paymentColumns.description, paymentColumns.amount, paymentColumns.status, {
      header: 'ID',
      cell: (payment) => h('td', {}, h('a', { href: `/app/payments/${encodeURIComponent(payment.id)}` }, h('code', {}, payment.id))),
    }],
    query: filter.query,
    emptySentence: () => (filter.query().status === undefined ? 'You have not made any payments yet.' : 'No payments have this status.'),
  });
  void table.show();
  return h('section', { 'aria-labelledby': 'payments-heading' }, h('h1', { id: 'payments-heading' }, 'Payments'), filter.element, table.element);
}
