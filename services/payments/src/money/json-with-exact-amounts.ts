// A JSON body parser that keeps every number's source text for the money fields, so that an
// amount never passes through a binary float (JSON.parse's reviver gets the source since V8 11).
import type { HttpServer } from '@paymesh/platform/http-server';
import { useJsonParser } from '@paymesh/platform/json-body';

const moneyFields = new Set(['amount', 'amount_to_capture']);

export function parseJsonWithExactAmounts(text: string): unknown {
  return JSON.parse(text, function (this: unknown, key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === 'number' && moneyFields.has(key) && context?.source !== undefined) return context.source;
    return value;
  } as (key: string, value: unknown) => unknown);
}

/** The platform's parser (depth cap, NUL refused) with this parse inside. */
export function useExactAmountParser(app: HttpServer): void {
  useJsonParser(app, parseJsonWithExactAmounts);
}
