// The platform's error object as the API document describes it (errors.ts writes it).
import { Type } from '@fastify/type-provider-typebox';

/** Every error answer carries it (errors.ts, docs/errors.md). */
export const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['type', 'code', 'message'],
      properties: {
        type: { type: 'string', description: 'The kind of error: invalid_request_error, authentication_error, card_error, api_error …' },
        code: { type: 'string', description: 'A stable, machine-readable code (docs/errors.md lists them).' },
        message: { type: 'string', description: 'A sentence for a person; may change between versions.' },
        param: { type: 'string', description: 'The request parameter the error is about, when one is.' },
        decline_code: { type: 'string', description: 'For card errors, why the card was declined.' },
      },
      additionalProperties: true,
    },
    message: { type: 'string', description: 'The seed\'s top-level message, kept on the compatibility contract\'s routes.' },
  },
  additionalProperties: true,
} as const;

const errorAnswers = new WeakSet<object>();

/**
 * A route's error status in its `response` schema: `404: errorAnswer('No such payment
 * (payment_not_found).')`. Checked as the error object; described in the document by reference
 * to it, with this description.
 */
export function errorAnswer(description: string) {
  const schema = Type.Unsafe<{ error: { type: string; code: string; message: string; param?: string; decline_code?: string }; message?: string }>({ ...errorBodySchema, description });
  errorAnswers.add(schema);
  return schema;
}

export function isErrorAnswer(schema: unknown): schema is { description: string } {
  return typeof schema === 'object' && schema !== null && errorAnswers.has(schema);
}
