// The breaking-change check (app/testing/api-breaking-changes.ts) on small documents: each kind of
// change a released client would break on is reported, and additions are not.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { breakingChanges } from '@paymesh/app/testing/api-breaking-changes';

const body = (schema: Record<string, unknown>) => ({ required: true, content: { 'application/json': { schema } } });
const ok = (schema: Record<string, unknown>) => ({ '200': { description: 'OK', content: { 'application/json': { schema } } } });

const payment = {
  type: 'object', required: ['amount'], additionalProperties: false,
  properties: {
    amount: { type: 'string', maxLength: 40 },
    currency: { type: 'string', minLength: 3, maxLength: 3 },
    capture_method: { anyOf: [{ type: 'string', enum: ['automatic'] }, { type: 'string', enum: ['manual'] }] },
    user_id: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^[1-9][0-9]*$' }] },
  },
};
const released = {
  openapi: '3.1.0',
  paths: {
    '/payments': {
      post: {
        operationId: 'createPayment',
        parameters: [{ in: 'header', name: 'idempotency-key', required: false, schema: { type: 'string', maxLength: 255 } }],
        requestBody: body(payment),
        responses: ok({ type: 'object', required: ['id', 'status'], properties: { id: { type: 'string' }, status: { type: 'string' }, amount: { type: 'integer' } } }),
      },
      get: { operationId: 'listPayments', parameters: [{ in: 'query', name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 100 } }] },
    },
    '/payments/{id}': { get: { operationId: 'getPayment', $ref: undefined } },
  },
  components: { schemas: {} },
};

/** The released document changed by `change`, a deep copy. */
function changed(change: (doc: any) => void): typeof released {
  const copy = structuredClone(released);
  change(copy);
  return copy;
}

describe('breaking changes between two API documents', () => {
  test('the same document has none', () => {
    assert.deepEqual(breakingChanges(released, structuredClone(released)), []);
  });

  test('additions are not breaking: a new operation, an optional parameter or field, a wider bound, a new response field, a new enum value', () => {
    const wider = changed((d) => {
      d.paths['/refunds'] = { post: { operationId: 'createRefund' } };
      d.paths['/payments'].get.parameters.push({ in: 'query', name: 'status', required: false, schema: { type: 'string' } });
      d.paths['/payments'].post.requestBody.content['application/json'].schema.properties.description = { type: 'string' };
      d.paths['/payments'].post.requestBody.content['application/json'].schema.properties.amount.maxLength = 50;
      d.paths['/payments'].get.parameters[0].schema.maximum = 1000;
      d.paths['/payments'].post.responses['200'].content['application/json'].schema.properties.created = { type: 'integer' };
      d.paths['/payments'].post.requestBody.content['application/json'].schema.properties.capture_method.anyOf.push({ type: 'string', enum: ['deferred'] });
    });
    assert.deepEqual(breakingChanges(released, wider), []);
  });

  test('a removed path or operation, and a renamed operationId, are breaking', () => {
    assert.deepEqual(breakingChanges(released, changed((d) => delete d.paths['/payments/{id}'])), ['GET /payments/{id}: the operation was removed']);
    assert.deepEqual(breakingChanges(released, changed((d) => (d.paths['/payments'].get.operationId = 'getPayments'))), ['GET /payments: operationId listPayments became getPayments (the SDK method\'s name)']);
  });

  test('a removed field or parameter, and a newly required one, are breaking', () => {
    const problems = breakingChanges(released, changed((d) => {
      delete d.paths['/payments'].post.requestBody.content['application/json'].schema.properties.currency;
      d.paths['/payments'].post.requestBody.content['application/json'].schema.required.push('user_id');
      d.paths['/payments'].post.parameters = [];
      d.paths['/payments'].get.parameters[0].required = true;
    }));
    assert.deepEqual(problems.sort(), [
      'GET /payments: parameter query limit is now required',
      'POST /payments body: field currency is no longer accepted',
      'POST /payments body: field user_id is now required',
      'POST /payments: parameter header idempotency-key was removed',
    ]);
  });

  test('a narrowed type, length, bound, enum, pattern or union is breaking', () => {
    const problems = breakingChanges(released, changed((d) => {
      const props = d.paths['/payments'].post.requestBody.content['application/json'].schema.properties;
      props.amount = { type: 'integer' };
      props.currency.maxLength = 2;
      d.paths['/payments'].get.parameters[0].schema.maximum = 50;
      props.capture_method = { type: 'string', enum: ['automatic'] };
      props.user_id.anyOf[1].pattern = '^[1-9][0-9]{0,5}$';
    }));
    assert.deepEqual(problems.sort(), [
      'GET /payments parameter query limit: maximum 100 became 50',
      'POST /payments body.amount: type string narrowed to integer',
      'POST /payments body.capture_method: {"type":"string","enum":["manual"]} is no longer accepted',
      'POST /payments body.currency: maxLength 3 became 2',
      'POST /payments body.user_id: {"type":"string","pattern":"^[1-9][0-9]*$"} is no longer accepted',
    ]);
  });

  test('a response field removed, no longer always present, or of another type is breaking', () => {
    const problems = breakingChanges(released, changed((d) => {
      const schema = d.paths['/payments'].post.responses['200'].content['application/json'].schema;
      delete schema.properties.amount;
      schema.required = ['id'];
      schema.properties.id = { type: 'integer' };
    }));
    assert.deepEqual(problems.sort(), [
      'POST /payments 200 response.id: type string became integer',
      'POST /payments 200 response: field amount was removed',
      'POST /payments 200 response: field status is no longer always present',
    ]);
  });

  test('references are followed on both sides', () => {
    const withRefs = (schema: unknown) => ({
      ...structuredClone(released),
      paths: { '/x': { post: { operationId: 'x', requestBody: body({ $ref: '#/components/schemas/X' }) } } },
      components: { schemas: { X: schema } },
    });
    const problems = breakingChanges(withRefs({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }) as never, withRefs({ type: 'object', properties: {}, additionalProperties: false }) as never);
    assert.deepEqual(problems, ['POST /x body: field a is no longer accepted']);
  });
});
