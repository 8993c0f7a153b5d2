// Admins: one account (GET /users/:id) and its payments (GET /payments?user_id=…), newest first,
// a page at a time; a payment with money left to refund has a Refund button (refund-dialog.ts).
import type { Paymesh } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { formatMoney } from './format-money.ts';
import { openRefundDialog, type Payment } from './refund-dialog.ts';
import { timeElement } from './time-element.ts';
import { userStatusWords } from './admin-users-page.ts';

const pageSize = 10;

const paymentStatusWords: Record<string, string> = {
  requires_payment_method: 'Needs a payment method',
  requires_confirmation: 'Needs confirmation',
  requires_action: 'Needs action',
  processing: 'Processing',
  requires_capture: 'Authorised',
  succeeded: 'Succeeded',
  canceled: 'Canceled',
};

export function adminUserPage(paymesh: Paymesh, userId: string): HTMLElement {
  const heading = h('h1', { id: 'user-heading' }, 'User');
  const userStatus = h('p', { role: 'status', 'aria-live': 'polite' }, 'Loading the user…');
  const details = h('div');
  const paymentsStatus = h('p', { role: 'status', 'aria-live': 'polite' });
  const payments = h('div');
  const section = h('section', { 'aria-labelledby': 'user-heading' },
    h('p', {}, h('a', { href: '/app/admin/users' }, 'All users')),
    heading, userStatus, details,
    h('h2', { id: 'user-payments-heading' }, 'Payments'), paymentsStatus, payments);
  const cursors: (string | undefined)[] = [undefined];

  const showUser = async () => {
    try {
      const user = await paymesh.get('/users/{id}', { params: { path: { id: userId } } });
      const name = user.username ?? `User ${user.id}`;
      heading.textContent = name;
      document.title = `${name} · Paymesh`;
      userStatus.textContent = '';
      details.replaceChildren(h('dl', { class: 'facts' },
        h('dt', {}, 'ID'), h('dd', {}, String(user.id)),
        h('dt', {}, 'Email'), h('dd', {}, user.email ?? '—'),
        h('dt', {}, 'Role'), h('dd', {}, user.role === 'admin' ? 'Admin' : 'User'),
        h('dt', {}, 'Status'), h('dd', {}, userStatusWords[user.status] ?? user.status),
        h('dt', {}, 'Created'), h('dd', {}, timeElement(new Date(user.created_at)))));
    } catch (error) {
      userStatus.textContent = '';
      details.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  };

  const paymentRow = (payment: Payment): HTMLTableRowElement => {
    const row = h('tr');
    const render = (current: Payment) => {
      const left = current.amount_received - current.amount_refunded;
      row.replaceChildren(
        h('td', {}, timeElement(new Date(current.created * 1000))),
        h('td', {}, current.description ?? '—'),
        h('td', { class: 'amount' }, formatMoney(current.amount, current.currency)),
        h('td', { class: 'amount' }, formatMoney(current.amount_refunded, current.currency)),
        h('td', {}, paymentStatusWords[current.status] ?? current.status),
        h('td', {}, h('code', {}, current.id)),
        h('td', {}, current.status === 'succeeded' && left > 0
          ? h('button', { type: 'button', 'aria-label': `Refund ${current.id}`, onclick: () => openRefundDialog(paymesh, current, render) }, 'Refund')
          : '—'));
    };
    render(payment);
    return row;
  };

  const showPayments = async (pageIndex: number) => {
    paymentsStatus.textContent = 'Loading payments…';
    payments.replaceChildren();
    try {
      const startingAfter = cursors[pageIndex];
      const page = await paymesh.get('/payments', { params: { query: { user_id: userId, limit: String(pageSize), ...(startingAfter === undefined ? {} : { starting_after: startingAfter }) } } });
      if (page.data.length === 0) {
        paymentsStatus.textContent = pageIndex === 0 ? 'This user has made no payments.' : 'No more payments.';
        return;
      }
      paymentsStatus.textContent = `Showing ${page.data.length} payment${page.data.length === 1 ? '' : 's'}, page ${pageIndex + 1}.`;
      const table = h('table', {},
        h('caption', {}, 'The user\'s payments'),
        h('thead', {}, h('tr', {}, ...['Date', 'Description', 'Amount', 'Refunded', 'Status', 'ID', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...page.data.map(paymentRow)));
      const nav = h('nav', { 'aria-label': 'Payments pages', class: 'pager' });
      if (pageIndex > 0) nav.append(h('button', { type: 'button', onclick: () => void showPayments(pageIndex - 1) }, 'Previous'));
      if (page.has_more) {
        cursors[pageIndex + 1] = page.data.at(-1)!.id;
        nav.append(h('button', { type: 'button', onclick: () => void showPayments(pageIndex + 1) }, 'Next'));
      }
      payments.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'The user\'s payments' }, table), nav);
    } catch (error) {
      paymentsStatus.textContent = '';
      payments.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  };

  void showUser();
  void showPayments(0);
  return section;
}
