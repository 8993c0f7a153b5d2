// Amounts as people read them: integer minor units of an ISO 4217 currency, shown with that
// currency's symbol and decimals in the reader's locale (Intl.NumberFormat). Never floating point
// for the amount itself: the minor units are turned into a decimal string before formatting.

/** The currency's number of minor-unit digits (USD 2, JPY 0, KWD 3), as Intl knows it. */
export function currencyDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** `formatMoney(123456, 'usd', 'en-US')` → "$1,234.56"; `formatMoney(500, 'JPY', 'ja-JP')` → "￥500". */
export function formatMoney(amountMinor: number | bigint, currency: string, locale?: string): string {
  const code = currency.toUpperCase();
  const digits = currencyDigits(code);
  const minor = BigInt(amountMinor);
  const negative = minor < 0n;
  const magnitude = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const whole = magnitude.slice(0, magnitude.length - digits);
  const fraction = digits === 0 ? '' : `.${magnitude.slice(-digits)}`;
  // A decimal string keeps every digit exact (Intl's string input, ES2023).
  const decimal = `${negative ? '-' : ''}${whole}${fraction}` as `${number}`;
  return new Intl.NumberFormat(locale, { style: 'currency', currency: code, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(decimal);
}
