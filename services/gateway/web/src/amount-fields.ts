// The amount and currency fields the pay page and the wallet's top-up share: a currency select of
// the currencies Paymesh takes, the amount's hint saying that currency's decimals (and an example),
// an error cleared when either changes, and the check before sending (amount-entry.ts).
import { h } from './element.ts';
import { amountExample, checkAmount, paymentCurrencies } from './amount-entry.ts';
import { formField, type FormField } from './form-field.ts';

const currencyNames = new Intl.DisplayNames(undefined, { type: 'currency' });

export interface AmountFields {
  readonly amount: FormField;
  readonly currency: FormField;
  /** The chosen currency's code, upper case (USD). */
  currencyCode(): string;
  /** The amount as the API's decimal string, or undefined after showing the error on the field. */
  check(): string | undefined;
}

export function amountFields(idPrefix: string): AmountFields {
  const amount = formField(`${idPrefix}-amount`, 'Amount', h('input', { type: 'text', inputmode: 'decimal', autocomplete: 'transaction-amount', required: true }));
  const select = h('select', { autocomplete: 'transaction-currency' },
    ...Object.keys(paymentCurrencies).map((code) => h('option', { value: code, selected: code === 'USD' }, `${code} · ${currencyNames.of(code) ?? code}`)));
  const currency = formField(`${idPrefix}-currency`, 'Currency', select);
  const showHint = () => {
    const code = select.value;
    const digits = paymentCurrencies[code] ?? 2;
    amount.hint.textContent = `In ${currencyNames.of(code) ?? code}, ${digits === 0 ? 'no decimals' : `up to ${digits} decimals`}: for example ${amountExample(code)}.`;
  };
  showHint();
  select.addEventListener('change', () => {
    showHint();
    amount.setError(undefined);
  });
  amount.control.addEventListener('input', () => amount.setError(undefined));
  return {
    amount,
    currency,
    currencyCode: () => select.value,
    check() {
      const checked = checkAmount(amount.control.value, select.value);
      if ('decimal' in checked) return checked.decimal;
      amount.setError(checked.error);
      return undefined;
    },
  };
}
