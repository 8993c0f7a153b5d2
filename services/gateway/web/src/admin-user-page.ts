// Admins: one account (GET /users/:id) and its payments (GET /payments?user_id=…), newest first,
// a page at a time; a payment with money left to refund has a Refund button (refund-dialog.ts).
import type { Paymesh } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { paymentColumns, paymentsTable } from './payments-table.ts';
import { openRefundDialog } from './refund-dialog.ts';
import { timeElement } from './time-element.ts';
import { userStatusWords } from './admin-users-page.ts';

export function adminUserPage(paymesh: Paymesh, userId: string): HTMLElement {
  const heading = h('h1', { id: 'user-heading' }, 'User');
  const userStatus = h('p', { role: 'status', 'aria-live': 'polite' }, 'Loading the user…');
  const details = h('div');
  const payments = paymentsTable(paymesh, {
    caption: 'The user\'s payments',
    columns: [paymentColumns.date, paymentColumns.description, paymentColumns.amount, paymentColumns.refunded, paymentColumns.status,
      { header: 'ID', cell: (payment) => h('td', {}, h('code', {}, payment.id)) },
      {
        header: 'Actions',
        // A payment with money left to refund: the refund dialog, which draws the row again after.
        cell: (payment, rerender) => h('td', {}, payment.status === 'succeeded' && payment.amount_received - payment.amount_refunded > 0
          ? h('button', { type: 'button', 'aria-label': `Refund ${payment.id}`, onclick: () => openRefundDialog(paymesh, payment, rerender) }, 'Refund')
          : '—'),
      }],
    query: () => ({ user_id: userId }),
    emptySentence: () => 'This user has made no payments.',
  });
  const section = h('section', { 'aria-labelledby': 'user-heading' },
    h('p', {}, h('a', { href: '/app/admin/users' }, 'All users')),
    heading, userStatus, details,
    h('h2', { id: 'user-payments-heading' }, 'Payments'), payments.element);

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

  void showUser();
  void payments.show();
  return section;
}
