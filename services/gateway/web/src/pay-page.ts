// Pay: an amount in one of the currencies the payments service takes (with that currency's
// decimals), paid with a saved card, the wallet or a new card checked in the browser first (brand,
// Luhn, expiry, CVC; payment-source.ts), then POST /payments through the SDK with it as
// `payment_method`. A card that asks for 3-D Secure opens the
// modal that confirms the payment; a decline is shown as a sentence with its reason; a success
// shows the payment and links to its page. The test processor's cards are listed beside the form.
import { CardError, InvalidRequestError, type Paymesh, type ResponseData } from '@paymesh/sdk';
import { amountFields } from './amount-fields.ts';
import { cardName } from './card-fields.ts';
import { declineSentence } from './decline-sentence.ts';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { formField, type FormField } from './form-field.ts';
import { formatMoney } from './format-money.ts';
import { paymentSource } from './payment-source.ts';
import type { SignedIn } from './session.ts';
import { testCards } from './test-cards.ts';
import { threeDSecureDialog } from './three-d-secure-dialog.ts';

type Payment = ResponseData<'/payments/{id}', 'get'>;

/** Which of the form's fields an API error's `param` names. */
const fieldOfParam: Readonly<Record<string, string>> = {
  amount: 'amount', currency: 'currency', description: 'description', number: 'number', exp_month: 'expiry', exp_year: 'expiry', cvc: 'cvc',
};

export function payPage(paymesh: Paymesh, user: SignedIn): HTMLElement {
  const money = amountFields('pay');
  const { amount, currency } = money;
  const description = formField('pay-description', 'Description (optional)', h('input', { type: 'text', maxlength: '1000', autocomplete: 'off' }));
  const source = paymentSource(paymesh, 'pay', { wallet: true, cardLegend: 'Card' });
  const { card } = source;
  const { number, expiry, cvc } = card.fields;
  const fields: Readonly<Record<string, FormField>> = { amount, currency, description, ...card.fields };


  const pay = h('button', { type: 'submit', class: 'primary' }, 'Pay');
  const formError = h('p', { class: 'error', role: 'alert' });
  const result = h('div', { class: 'pay-result' });
  const form = h('form', { novalidate: true, 'aria-labelledby': 'pay-heading' },
    amount.element, currency.element, description.element,
    source.element,
    formError, pay);

  const clearErrors = () => {
    for (const field of Object.values(fields)) field.setError(undefined);
    formError.textContent = '';
  };
  const fieldError = (param: string | undefined, sentence: string): void => {
    const field = param === undefined ? undefined : fields[fieldOfParam[param] ?? ''];
    if (field === undefined) {
      formError.textContent = sentence;
      return;
    }
    field.setError(sentence);
    field.control.focus();
  };

  const showPayment = (payment: Payment) => {
    const heading = h('h2', { id: 'pay-result-heading', tabindex: '-1' }, payment.status === 'succeeded' ? 'Payment succeeded' : payment.status === 'requires_capture' ? 'Payment authorised' : 'Payment recorded');
    const method = payment.payment_method;
    result.replaceChildren(h('section', { class: 'panel', 'aria-labelledby': 'pay-result-heading' },
      heading,
      h('dl', { class: 'facts' },
        h('dt', {}, 'Amount'), h('dd', {}, formatMoney(payment.amount, payment.currency)),
        h('dt', {}, 'Status'), h('dd', { 'data-testid': 'pay-status' }, payment.status === 'succeeded' ? 'Succeeded' : payment.status.replaceAll('_', ' ')),
        method?.type === 'card' ? h('dt', {}, 'Card') : null,
        method?.type === 'card' ? h('dd', {}, cardName(method.card)) : null,
        method?.type === 'wallet' ? h('dt', {}, 'Paid from') : null,
        method?.type === 'wallet' ? h('dd', {}, 'Your wallet') : null,
        h('dt', {}, 'Payment ID'), h('dd', {}, h('code', {}, payment.id))),
      h('p', {}, h('a', { href: `/app/payments/${encodeURIComponent(payment.id)}` }, 'See this payment\'s details'))));
    heading.focus();
  };

  const fail = (error: unknown) => {
    if (error instanceof CardError) fieldError(error.param, declineSentence(error));
    else if (error instanceof InvalidRequestError) fieldError(error.param, errorSentence(error));
    else formError.textContent = errorSentence(error);
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });

  const submit = async () => {
    clearErrors();
    result.replaceChildren();
    const checkedAmount = money.check();
    // Every field's error is shown at once; the focus goes to the first wrong one, the amount first.
    const checkedCard = source.chosen();
    if (checkedAmount === undefined) amount.control.focus();
    if (checkedAmount === undefined || checkedCard === undefined) return;
    pay.disabled = true;
    pay.textContent = 'Paying…';
    try {
      const text = description.control.value.trim();
      const { payment } = await paymesh.post('/payments', {
        body: { amount: checkedAmount, currency: money.currencyCode().toLowerCase(), user_id: user.subject, payment_method: checkedCard, ...(text === '' ? {} : { description: text }) },
      });
      if (payment.status === 'requires_action' && payment.next_action?.type === 'three_d_secure') {
        const step = await threeDSecureDialog(paymesh, payment, form);
        if (step.outcome === 'confirmed') showPayment(step.payment);
        else if (step.outcome === 'failed') fail(step.error);
        else formError.textContent = 'The payment was not completed: your bank still needs you to confirm it. Pay again to retry.';
      } else {
        showPayment(payment);
      }
      if (result.childElementCount > 0) card.reset();
    } catch (error) {
      fail(error);
    } finally {
      pay.disabled = false;
      pay.textContent = 'Pay';
    }
  };

  const useCard = (cardNumber: string) => {
    source.chooseNewCard();
    number.control.value = cardNumber;
    // As if typed: the brand shows and the number's error goes.
    number.control.dispatchEvent(new Event('input'));
    if (expiry.control.value === '') expiry.control.value = `12/${String((new Date().getFullYear() + 3) % 100).padStart(2, '0')}`;
    if (cvc.control.value === '') cvc.control.value = '123';
    number.control.focus();
  };
  const cards = h('section', { class: 'panel test-cards', 'aria-labelledby': 'test-cards-heading' },
    h('h2', { id: 'test-cards-heading' }, 'Test cards'),
    h('p', { class: 'hint' }, 'The platform\'s test processor moves no money. Use any future expiry date and any CVC with these numbers.'),
    h('ul', {}, ...testCards.map((card) => h('li', {},
      h('span', { class: 'card-number' }, card.number), ' ', h('span', {}, card.outcome), ' ',
      h('button', { type: 'button', 'aria-label': `Use test card ${card.number}`, onclick: () => useCard(card.number) }, 'Use')))));

  return h('section', { 'aria-labelledby': 'pay-heading', class: 'pay' },
    h('h1', { id: 'pay-heading' }, 'Pay'),
    h('div', { class: 'pay-layout' }, h('div', {}, result, form), cards));
}
