// The 3-D Secure step of a card payment (status requires_action, next_action three_d_secure): a
// modal <dialog>, labelled by its heading, focus kept inside it, that completes the payment with
// POST /payments/:id/confirm once the cardholder has authenticated. The test processor needs no
// code from the cardholder; a real issuer's challenge page would be framed here.
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { h } from './element.ts';
import { formatMoney } from './format-money.ts';

type Payment = ResponseData<'/payments/{id}', 'get'>;

export type ThreeDSecureResult = { readonly outcome: 'confirmed'; readonly payment: Payment } | { readonly outcome: 'canceled' } | { readonly outcome: 'failed'; readonly error: unknown };

/** Opens the dialog inside `host` and resolves when the cardholder completes or cancels it. */
export function threeDSecureDialog(paymesh: Paymesh, payment: Payment, host: HTMLElement): Promise<ThreeDSecureResult> {
  return new Promise((resolve) => {
    const complete = h('button', { type: 'button', class: 'primary' }, 'Complete authentication');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const busy = h('p', { role: 'status', class: 'hint' });
    const dialog = h('dialog', { class: 'three-d-secure', 'aria-labelledby': 'three-d-secure-heading', 'aria-describedby': 'three-d-secure-text' },
      h('h2', { id: 'three-d-secure-heading' }, 'Confirm the payment with your bank'),
      h('p', { id: 'three-d-secure-text' },
        `Your bank asks you to confirm the payment of ${formatMoney(payment.amount, payment.currency)} (3-D Secure). `,
        'With the test processor there is no code to enter: choose Complete authentication.'),
      busy,
      h('div', { class: 'dialog-actions' }, complete, cancel));
    let settled = false;
    const finish = (result: ThreeDSecureResult) => {
      if (settled) return;
      settled = true;
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    // Keep Tab and Shift+Tab among the dialog's own controls (showModal makes the page inert, but
    // Tab would still leave for the browser's own interface).
    dialog.addEventListener('keydown', (event) => {
      if (event.key !== 'Tab') return;
      const focusable = [...dialog.querySelectorAll<HTMLElement>('button:not([disabled])')];
      if (focusable.length === 0) return;
      const first = focusable[0]!;
      const last = focusable.at(-1)!;
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    });
    // Escape closes a modal dialog: that is a cancel.
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      if (!complete.disabled) finish({ outcome: 'canceled' });
    });
    cancel.addEventListener('click', () => finish({ outcome: 'canceled' }));
    complete.addEventListener('click', () => {
      complete.disabled = true;
      cancel.disabled = true;
      busy.textContent = 'Confirming the payment…';
      paymesh.post('/payments/{id}/confirm', { params: { path: { id: payment.id } }, body: {} }).then(
        (confirmed) => finish({ outcome: 'confirmed', payment: confirmed }),
        (error: unknown) => finish({ outcome: 'failed', error }),
      );
    });
    host.append(dialog);
    dialog.showModal();
    complete.focus();
  });
}
