// Refunding a payment (admins; POST /payments/:id/refunds): the whole amount left, or part of it,
// with a reason, in a modal dialog that then shows the refund and the payment's new refunded
// amount. The amount is typed in the currency's major unit and sent as the exact decimal string.
import type { Paymesh } from '@paymesh/sdk';
import { PaymeshError } from '@paymesh/sdk';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { setFieldError } from './field-error.ts';
import { currencyDigits, formatMoney } from './format-money.ts';
import { openModalDialog } from './modal-dialog.ts';
import type { Payment } from './payments-table.ts';

const reasons: [value: string, label: string][] = [
  ['', 'No reason given'],
  ['requested_by_customer', 'Requested by the customer'],
  ['duplicate', 'Duplicate payment'],
  ['fraudulent', 'Fraudulent'],
];

const refundStatusWords: Record<string, string> = { pending: 'pending', succeeded: 'succeeded', failed: 'failed' };

/** Minor units as the decimal a person types: 1250 USD → "12.50", 500 JPY → "500". */
export function minorToDecimal(amountMinor: number, currency: string): string {
  const digits = currencyDigits(currency.toUpperCase());
  const text = String(amountMinor).padStart(digits + 1, '0');
  return digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

/** Whether `text` is a positive amount with at most the currency's decimals ("12", "12.5", "12.50"). */
export function isAmountText(text: string, currency: string): boolean {
  const digits = currencyDigits(currency.toUpperCase());
  const pattern = digits === 0 ? /^\d+$/ : new RegExp(`^\\d+(\\.\\d{1,${digits}})?$`);
  return pattern.test(text) && /[1-9]/.test(text);
}

/** Opens the dialog; `onRefunded` gets the payment as it is after the refund. */
export function openRefundDialog(paymesh: Paymesh, payment: Payment, onRefunded: (payment: Payment) => void): void {
  const modal = openModalDialog(`Refund payment ${payment.id}`);
  const left = payment.amount_received - payment.amount_refunded;
  const currency = payment.currency;
  const code = currency.toUpperCase();
  const amount = h('input', { id: 'refund-amount', name: 'amount', type: 'text', inputmode: 'decimal', autocomplete: 'off', value: minorToDecimal(left, currency), 'aria-describedby': 'refund-amount-hint' });
  const reason = h('select', { id: 'refund-reason', name: 'reason' }, ...reasons.map(([value, label]) => h('option', { value }, label)));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Refund');
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const alert = h('div');

  const form = h('form', { class: 'stack', novalidate: true },
    h('dl', { class: 'facts' },
      h('dt', {}, 'Received'), h('dd', {}, formatMoney(payment.amount_received, currency)),
      h('dt', {}, 'Refunded so far'), h('dd', {}, formatMoney(payment.amount_refunded, currency)),
      h('dt', {}, 'Left to refund'), h('dd', {}, formatMoney(left, currency))),
    h('div', { class: 'field' },
      h('label', { for: 'refund-amount' }, `Amount to refund (${code})`),
      h('p', { id: 'refund-amount-hint', class: 'hint' }, `Up to ${formatMoney(left, currency)}; the whole amount left is a full refund.`),
      amount),
    h('div', { class: 'field' }, h('label', { for: 'refund-reason' }, 'Reason'), reason),
    alert,
    status,
    h('div', { class: 'dialog-actions' }, h('button', { type: 'button', onclick: () => modal.close() }, 'Cancel'), submit));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send();
  });

  const send = async () => {
    setFieldError(amount, undefined);
    alert.replaceChildren();
    const text = amount.value.trim();
    if (!isAmountText(text, currency)) {
      setFieldError(amount, `Enter an amount in ${code} greater than zero, with at most ${currencyDigits(code)} decimals.`);
      amount.focus();
      return;
    }
    submit.disabled = true;
    status.textContent = 'Refunding…';
    try {
      const refund = await paymesh.post('/payments/{id}/refunds', {
        params: { path: { id: payment.id } },
        body: { amount: text, ...(reason.value === '' ? {} : { reason: reason.value as 'duplicate' | 'fraudulent' | 'requested_by_customer' }) },
      });
      const updated = await paymesh.get('/payments/{id}', { params: { path: { id: payment.id } } });
      onRefunded(updated);
      status.textContent = '';
      const done = h('button', { type: 'button', class: 'primary', onclick: () => modal.close() }, 'Close');
      modal.body.replaceChildren(
        h('p', { role: 'status', class: 'success' }, `Refund ${refund.id} of ${formatMoney(refund.amount, refund.currency)} ${refundStatusWords[refund.status] ?? refund.status}.`),
        h('dl', { class: 'facts' },
          h('dt', {}, 'Received'), h('dd', {}, formatMoney(updated.amount_received, updated.currency)),
          h('dt', {}, 'Refunded now'), h('dd', { 'data-testid': 'refunded-now' }, formatMoney(updated.amount_refunded, updated.currency))),
        h('div', { class: 'dialog-actions' }, done));
      done.focus();
    } catch (error) {
      status.textContent = '';
      submit.disabled = false;
      if (error instanceof PaymeshError && error.param === 'amount') {
        setFieldError(amount, errorSentence(error));
        amount.focus();
      } else {
        alert.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
      }
    }
  };

  modal.body.append(form);
  amount.focus();
  amount.select();
}
