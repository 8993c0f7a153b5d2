// "Pay with": the person's saved cards (GET /payment_methods), their wallet where it can pay (the
// pay page; a top-up cannot be paid from the wallet it fills), or a new card typed in the card
// fields (card-fields.ts), which show only while it is chosen. What is chosen is sent as
// `payment_method`: a saved card's id, "wallet", or the new card's details.
import type { Paymesh } from '@paymesh/sdk';
import type { CardPaymentMethod } from './card-entry.ts';
import { cardFields, cardName, type CardFields } from './card-fields.ts';
import { h } from './element.ts';

export interface PaymentSource {
  readonly element: HTMLFieldSetElement;
  /** The new card's fields (hidden while a saved card or the wallet is chosen). */
  readonly card: CardFields;
  /** What to send as `payment_method`; undefined after the new card's fields showed their errors. */
  chosen(): string | CardPaymentMethod | undefined;
  /** Whether the new card is chosen (its fields are then the ones an API error may name). */
  readonly newCard: boolean;
  /** Chooses the new card (a test card's button does, say). */
  chooseNewCard(): void;
}

export function paymentSource(paymesh: Paymesh, idPrefix: string, options: { readonly wallet: boolean; readonly cardLegend: string }): PaymentSource {
  const name = `${idPrefix}-source`;
  const card = cardFields(idPrefix, options.cardLegend);
  const choices = h('div', { class: 'choices' });
  const status = h('p', { class: 'hint', role: 'status' }, 'Loading your saved cards…');
  const element = h('fieldset', {}, h('legend', {}, 'Pay with'), status, choices, card.element);
  const newCard = choice('new', 'A new card');
  newCard.input.checked = true;
  choices.append(newCard.label);

  function choice(value: string, text: string, hint?: string): { label: HTMLLabelElement; input: HTMLInputElement } {
    const input = h('input', { type: 'radio', name, value });
    input.addEventListener('change', () => void (card.element.hidden = !newCard.input.checked));
    const label = h('label', { class: 'choice' }, input, ' ', text, hint === undefined ? null : h('span', { class: 'hint' }, ` (${hint})`));
    return { label, input };
  }

  void (async () => {
    // Each on its own: the wallet failing to load hides only the wallet, and the other way round.
    const [saved, wallet] = await Promise.allSettled([paymesh.get('/payment_methods'), options.wallet ? paymesh.get('/wallet') : Promise.resolve(undefined)]);
    const before = [
      ...(saved.status === 'fulfilled' ? saved.value.data.map((method) => choice(method.id, cardName(method.card), `expires ${String(method.card.exp_month).padStart(2, '0')}/${method.card.exp_year}`).label) : []),
      ...(wallet.status === 'fulfilled' && wallet.value !== undefined ? [choice('wallet', 'Your wallet', wallet.value.balances.length === 0 ? 'empty' : wallet.value.balances.map((b) => b.available_display).join(', ')).label] : []),
    ];
    choices.prepend(...before);
    // The new card can always be used; the form still works.
    status.textContent = saved.status === 'rejected' ? 'Your saved cards could not be loaded: pay with a new card.' : wallet.status === 'rejected' ? 'Your wallet could not be loaded just now.' : '';
  })();

  return {
    element,
    card,
    get newCard() {
      return newCard.input.checked;
    },
    chooseNewCard() {
      newCard.input.checked = true;
      card.element.hidden = false;
    },
    chosen() {
      const picked = choices.querySelector<HTMLInputElement>(`input[name="${name}"]:checked`);
      if (picked === null || picked.value === 'new') return card.check();
      return picked.value;
    },
  };
}
