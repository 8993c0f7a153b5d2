// A JSON body parser that keeps every number's source text for the money fields, so that an
// amount never passes through a binary float (JSON.parse's reviver gets the source since V8 11).
import type { HttpServer } from '@paymesh/platform/http-server';
import { platformErrors } from '@paymesh/platform/errors';

const moneyFields = new Set(['amount', 'amount_to_capture']);

export function parseJsonWithExactAmounts(text: string): unknown {
  return JSON.parse(text, function (this: unknown, key: string, value: unknown, context?: { source?: string }) {
    if (typeof value === 'number' && moneyFields.has(key) && context?.source !== undefined) return context.source;
    return value;
  } as (key: string, value: unknown) => unknown);
}

export function useExactAmountParser(app: HttpServer): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(platformErrors.malformedBody('The JSON body is empty.'), undefined);
    try {
      done(null, parseJsonWithExactAmounts(body as string));
    } catch {
      done(platformErrors.malformedBody('The request body is not valid JSON.'), undefined);
    }
  });
}
