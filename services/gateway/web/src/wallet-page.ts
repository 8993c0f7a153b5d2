// The wallet: its balance in each currency it holds (GET /wallet: `available` and `held` in minor
// units), and a top-up from a card (POST /wallet/top-ups with the amount in the currency's major
// unit, with its decimals, and a saved card or a new one as `payment_method`: payment-source.ts). A declined card's reason is shown on
// the form; after a top-up the new balance is read again and announced.
import type { Paymesh, ResponseData } from '@paymesh/sdk';
import { amountFields } from './amount-fields.ts';
import { cardName } from './card-fields.ts';
import { h } from './element.ts';
import { errorSentence } from './error-sentence.ts';
import { formatMoney } from './format-money.ts';
import { paymentSource } from './payment-source.ts';

type Wallet = ResponseData<'/wallet', 'get'>;

const currencyNames = new Intl.DisplayNames(undefined, { type: 'currency' });

export function walletPage(paymesh: Paymesh): HTMLElement {
  const balanceStatus = h('p', { role: 'status', 'aria-live': 'polite' });
  const balances = h('div');
  const balance = h('section', { class: 'panel wallet-balance', 'aria-labelledby': 'wallet-balance-heading' },
    h('h2', { id: 'wallet-balance-heading' }, 'Balance'), balanceStatus, balances);

  const showWallet = (wallet: Wallet) => {
    balanceStatus.textContent = '';
    if (wallet.balances.length === 0) {
      balances.replaceChildren(h('p', {}, 'Your wallet is empty. Top it up with a card below.'));
      return;
    }
    balances.replaceChildren(h('dl', { class: 'facts wallet-balances' }, ...wallet.balances.flatMap((entry) => [
      h('dt', {}, currencyNames.of(entry.currency.toUpperCase()) ?? entry.currency.toUpperCase()),
      h('dd', {},
        h('span', { class: 'wallet-amount' }, formatMoney(entry.available, entry.currency)),
        entry.held > 0 ? h('span', { class: 'hint' }, ` (${formatMoney(entry.held, entry.currency)} held for authorised payments)`) : null),
    ])));
  };
  const loadWallet = async (): Promise<Wallet | undefined> => {
    try {
      const wallet = await paymesh.get('/wallet');
      showWallet(wallet);
      return wallet;
    } catch (error) {
      balanceStatus.textContent = '';
      balances.replaceChildren(h('p', { role: 'alert', class: 'error' }, errorSentence(error)));
      return undefined;
    }
  };
  balanceStatus.textContent = 'Loading your balance…';
  void loadWallet();

  // The top-up form.
  const money = amountFields('top-up');
  const { amount, currency } = money;
  const source = paymentSource(paymesh, 'top-up', { wallet: false, cardLegend: 'Card to charge' });
  const { card } = source;

  const submitButton = h('button', { type: 'submit', class: 'primary' }, 'Top up');
  const formError = h('p', { class: 'error', role: 'alert' });
  const done = h('p', { class: 'success', role: 'status' });
  const form = h('form', { novalidate: true, 'aria-labelledby': 'top-up-heading' },
    amount.element, currency.element, source.element,
    h('p', { class: 'hint' }, 'With the platform\'s test processor, 4242 4242 4242 4242 succeeds and 4000 0000 0000 0002 is declined (any future expiry date, any CVC).'),
    formError, submitButton, done);

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit();
  });

  const submit = async () => {
    amount.setError(undefined);
    card.clearErrors();
    formError.textContent = '';
    done.textContent = '';
    const checkedAmount = money.check();
    const checkedCard = source.chosen();
    if (checkedAmount === undefined) {
      amount.control.focus();
      return;
    }
    if (checkedCard === undefined) return;
    submitButton.disabled = true;
    submitButton.textContent = 'Topping up…';
    try {
      const topUp = await paymesh.post('/wallet/top-ups', { body: { amount: checkedAmount, currency: money.currencyCode().toLowerCase(), payment_method: checkedCard } });
      card.reset();
      amount.control.value = '';
      const wallet = await loadWallet();
      const now = wallet?.balances.find((entry) => entry.currency === topUp.currency);
      done.textContent = `Added ${formatMoney(topUp.amount, topUp.currency)} from your ${cardName(topUp.payment_method.card)}.${now === undefined ? '' : ` Your balance is now ${formatMoney(now.available, now.currency)}.`}`;
    } catch (error) {
      card.showError(error, formError);
    } finally {
      submitButton.disabled = false;
      submitButton.textContent = 'Top up';
    }
  };

  return h('section', { 'aria-labelledby': 'wallet-heading', class: 'wallet' },
    h('h1', { id: 'wallet-heading' }, 'Wallet'),
    h('p', {}, 'Your wallet holds money you add from a card; payments can be made from it.'),
    h('div', { class: 'wallet-layout' },
      balance,
      h('section', { class: 'panel', 'aria-labelledby': 'top-up-heading' }, h('h2', { id: 'top-up-heading' }, 'Top up from a card'), form)));
}
