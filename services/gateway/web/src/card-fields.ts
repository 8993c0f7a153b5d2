// The card's three fields (number, expiry, CVC) as the wallet's top-up and the saved cards' form
// ask for them: labelled (form-field.ts), the brand shown as the number is typed, the number
// grouped as on the card, checked in the browser first (card-entry.ts), and an API refusal shown
// on the field its `param` names (a decline without one goes to the form's alert).
import { CardError, PaymeshError } from '@paymesh/sdk';
import { cardBrand, cardBrandNames, cardDigits, checkCardEntry, groupCardNumber, type CardField, type CardPaymentMethod } from './card-entry.ts';
import { declineSentence } from './decline-sentence.ts';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { formField, type FormField } from './form-field.ts';

/** Which field an API error's `param` names. */
const fieldOfParam: Readonly<Record<string, CardField>> = { number: 'number', exp_month: 'expiry', exp_year: 'expiry', cvc: 'cvc' };

export interface CardFields {
  /** A fieldset titled `legend`, with the three fields. */
  readonly element: HTMLFieldSetElement;
  readonly fields: Readonly<Record<CardField, FormField>>;
  /** The card ready to send, or undefined after showing each field's error (the first one focused). */
  check(): CardPaymentMethod | undefined;
  /** Shows an API refusal: a card error's reason (declineSentence) or any error's sentence, on its field or in `alert`. */
  showError(error: unknown, alert: HTMLElement): void;
  clearErrors(): void;
  /** Empties the number and the CVC (after a success). */
  reset(): void;
}

export function cardFields(idPrefix: string, legend: string): CardFields {
  const number = formField(`${idPrefix}-card-number`, 'Card number', h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'cc-number', maxlength: '23', required: true }));
  const expiry = formField(`${idPrefix}-card-expiry`, 'Expiry date (MM/YY)', h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'cc-exp', maxlength: '7', placeholder: 'MM/YY', required: true }));
  const cvc = formField(`${idPrefix}-card-cvc`, 'Security code (CVC)', h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'cc-csc', maxlength: '4', required: true }), '3 digits on the back; 4 on the front for American Express.');
  const fields: Readonly<Record<CardField, FormField>> = { number, expiry, cvc };

  const showBrand = () => {
    const digits = cardDigits(number.control.value);
    const brand = cardBrandNames[cardBrand(digits)];
    number.hint.textContent = digits === '' ? 'The long number on the front of the card.' : brand === '' ? 'Card brand not recognised.' : `${brand} card.`;
  };
  showBrand();
  number.control.addEventListener('input', () => {
    showBrand();
    number.setError(undefined);
  });
  number.control.addEventListener('blur', () => {
    const digits = cardDigits(number.control.value);
    if (/^[0-9]+$/.test(digits)) number.control.value = groupCardNumber(digits);
  });
  expiry.control.addEventListener('input', () => expiry.setError(undefined));
  cvc.control.addEventListener('input', () => cvc.setError(undefined));

  const clearErrors = () => {
    for (const field of Object.values(fields)) field.setError(undefined);
  };

  return {
    element: h('fieldset', {}, h('legend', {}, legend), number.element, h('div', { class: 'field-row' }, expiry.element, cvc.element)),
    fields,
    check() {
      const checked = checkCardEntry({ number: number.control.value, expiry: expiry.control.value, cvc: cvc.control.value });
      if ('card' in checked) return checked.card;
      const wrong = (Object.entries(checked.errors) as [CardField, string][]);
      for (const [field, sentence] of wrong) fields[field].setError(sentence);
      fields[wrong[0]![0]].control.focus();
      return undefined;
    },
    showError(error, alert) {
      const sentence = error instanceof CardError ? declineSentence(error) : errorSentence(error);
      const param = error instanceof PaymeshError ? error.param : undefined;
      const field = param === undefined ? undefined : fieldOfParam[param];
      if (field === undefined) {
        alert.textContent = sentence;
        return;
      }
      fields[field].setError(sentence);
      fields[field].control.focus();
    },
    clearErrors,
    reset() {
      number.control.value = '';
      cvc.control.value = '';
      showBrand();
    },
  };
}

/** "Visa ending in 4242". */
export function cardName(card: { readonly brand: string; readonly last4: string }): string {
  return `${cardBrandNames[card.brand as keyof typeof cardBrandNames] || 'Card'} ending in ${card.last4}`;
}
