// The currencies the platform accepts, with their minor-unit exponents: the SDK's table, the one
// copy clients check amounts with too.
import { currencyExponents } from '@paymesh/sdk/currencies';

export { currencyExponents };

export function isSupportedCurrency(code: string): boolean {
  return Object.hasOwn(currencyExponents, code);
}
