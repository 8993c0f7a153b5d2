// The ISO 4217 currencies Paymesh takes payments in, with their minor-unit exponents (2 for USD:
// cents; 0 for JPY; 3 for KWD). One copy for the platform: the payments service refuses others and
// reads amounts with these decimals (money/parse-amount.ts); a client offers these and checks the
// decimals before sending, as the dashboard's amount fields do.
export const currencyExponents: Readonly<Record<string, number>> = {
  USD: 2, EUR: 2, GBP: 2, CHF: 2, CAD: 2, AUD: 2, SEK: 2, NOK: 2, DKK: 2, PLN: 2, INR: 2, BRL: 2, MXN: 2, SGD: 2, HKD: 2, NZD: 2, ZAR: 2,
  JPY: 0, KRW: 0, CLP: 0, ISK: 0, VND: 0,
  KWD: 3, BHD: 3, JOD: 3, OMR: 3, TND: 3,
};
