// Admins: the ledger's invariants at the last check (GET /payments/ledger/status): whether they
// held, when that was, and each rule found broken with where.
import type { Paymesh } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { timeElement } from './time-element.ts';

export function ledgerStatusPage(paymesh: Paymesh): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const result = h('div');
  const refresh = h('button', { type: 'button', onclick: () => void show() }, 'Refresh');
  const section = h('section', { 'aria-labelledby': 'ledger-heading' },
    h('h1', { id: 'ledger-heading' }, 'Ledger status'),
    h('p', {}, 'The ledger\'s invariants: per currency debits equal credits, every balance equals the sum of its entries, pending transfers resolve once within their amount, no wallet goes below zero, and every payment agrees with its transfers.'),
    status, result, refresh);

  const show = async () => {
    status.textContent = 'Loading the ledger status…';
    result.replaceChildren();
    try {
      const ledger = await paymesh.get('/payments/ledger/status');
      status.textContent = '';
      const checked = h('p', {}, 'Last checked ', timeElement(new Date(ledger.checked * 1000)), '.');
      if (ledger.status === 'ok') {
        result.replaceChildren(h('p', { class: 'ledger-ok', 'data-testid': 'ledger-status' }, 'Every invariant holds.'), checked);
        return;
      }
      result.replaceChildren(
        h('p', { class: 'ledger-violated error', 'data-testid': 'ledger-status' }, `${ledger.violations.length} invariant violation${ledger.violations.length === 1 ? '' : 's'} found.`),
        checked,
        h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Invariant violations' }, h('table', {},
          h('caption', {}, 'Violations'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Rule'), h('th', { scope: 'col' }, 'Where'))),
          h('tbody', {}, ...ledger.violations.map((v) => h('tr', {}, h('td', {}, v.rule), h('td', {}, h('code', {}, v.detail))))))));
    } catch (error) {
      status.textContent = '';
      result.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  };
  void show();
  return section;
}
