// The payments list's status filter: a labelled <select> of the statuses GET /payments takes as its
// `status` query; choosing one reloads the list from its first page.
import type { paths } from '@paymesh/sdk';
import { h } from './element.ts';

export type PaymentStatus = NonNullable<NonNullable<paths['/payments']['get']['parameters']['query']>['status']>;

export function paymentStatusFilter(statusWords: Readonly<Record<string, string>>, onChange: () => void): { element: HTMLElement; query: () => { status?: PaymentStatus } } {
  const select = h('select', { id: 'payments-status-filter', onchange: onChange },
    h('option', { value: '' }, 'All statuses'),
    ...Object.entries(statusWords).map(([value, words]) => h('option', { value }, words)));
  return {
    element: h('div', { class: 'field filter' }, h('label', { for: 'payments-status-filter' }, 'Status'), select),
    query: () => (select.value === '' ? {} : { status: select.value as PaymentStatus }),
  };
}
