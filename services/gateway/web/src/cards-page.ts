// Saved cards: the signed-in person's cards (GET /payment_methods: brand, last 4 digits, expiry,
// when saved), a form to save one (POST /payment_methods with the card's details: the number and
// CVC go to the processor only), and deleting one after a confirmation dialog
// (DELETE /payment_methods/:id: payments made with it keep their record of the card).
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { cardBrandNames } from './card-entry.ts';
import { cardFields, cardName } from './card-fields.ts';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { confirmDialog } from './modal-dialog.ts';
import { timeElement } from './time-element.ts';

type SavedCard = ResponseData<'/payment_methods/{id}', 'get'>;

function expiryText(card: SavedCard['card']): string {
  return `${String(card.exp_month).padStart(2, '0')}/${card.exp_year}`;
}

export function cardsPage(paymesh: Paymesh): HTMLElement {
  const status = h('p', { role: 'status', 'aria-live': 'polite' });
  const list = h('div');

  const load = async (announce?: string) => {
    if (announce === undefined) status.textContent = 'Loading your cards…';
    try {
      const page = await paymesh.get('/payment_methods');
      const lead = announce === undefined ? '' : `${announce} `;
      if (page.data.length === 0) {
        status.textContent = `${lead}You have no saved cards.`;
        list.replaceChildren();
        return;
      }
      status.textContent = `${lead}${page.data.length} saved card${page.data.length === 1 ? '' : 's'}.`;
      const rows = page.data.map((method) => h('tr', {},
        h('td', {}, cardBrandNames[method.card.brand] || 'Card'),
        h('td', {}, h('span', { class: 'card-last4' }, `•••• ${method.card.last4}`)),
        h('td', {}, expiryText(method.card)),
        h('td', {}, timeElement(new Date(method.created * 1000))),
        h('td', {}, h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${cardName(method.card)}`, onclick: () => void remove(method) }, 'Delete'))));
      const table = h('table', {},
        h('caption', {}, 'Your saved cards'),
        h('thead', {}, h('tr', {}, ...['Brand', 'Number', 'Expires', 'Saved', 'Actions'].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, ...rows));
      list.replaceChildren(h('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-label': 'Your saved cards (scrolls sideways on a narrow screen)' }, table));
    } catch (error) {
      status.textContent = '';
      list.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
  };

  const remove = async (method: SavedCard) => {
    const name = cardName(method.card);
    const sure = await confirmDialog(`Delete your ${name}?`, `The ${name}, expiring ${expiryText(method.card)}, will no longer be usable for payments. Payments already made with it keep their record of the card.`, 'Delete card');
    if (!sure) return;
    try {
      await paymesh.delete('/payment_methods/{id}', { params: { path: { id: method.id } } });
      await load(`Your ${name} was deleted.`);
    } catch (error) {
      list.prepend(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
    }
    heading.focus();
  };

  // Adding a card.
  const card = cardFields('add-card', 'Card details');
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save card');
  const formError = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { novalidate: true, 'aria-labelledby': 'add-card-heading' }, card.element, formError, save);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void add();
  });
  const add = async () => {
    card.clearErrors();
    formError.textContent = '';
    const details = card.check();
    if (details === undefined) return;
    save.disabled = true;
    save.textContent = 'Saving…';
    try {
      const saved = await paymesh.post('/payment_methods', { body: { type: 'card', card: details } });
      card.reset();
      await load(`Your ${cardName(saved.card)} was saved.`);
    } catch (error) {
      card.showError(error, formError);
    } finally {
      save.disabled = false;
      save.textContent = 'Save card';
    }
  };

  const heading = h('h1', { id: 'cards-heading', tabindex: '-1' }, 'Saved cards');
  void load();
  return h('section', { 'aria-labelledby': 'cards-heading', class: 'cards' },
    heading,
    status,
    list,
    h('section', { class: 'panel add-card', 'aria-labelledby': 'add-card-heading' },
      h('h2', { id: 'add-card-heading' }, 'Add a card'),
      h('p', { class: 'hint' }, 'The card number and security code go to the card processor only; Paymesh keeps the brand, the last 4 digits and the expiry date.'),
      form));
}
