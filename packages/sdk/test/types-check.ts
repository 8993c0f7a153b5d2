// Compile-time checks of the SDK's types: never run, only type-checked by `npm run typecheck`
// (tsconfig.json includes packages/*/test) and by types.test.ts, which runs tsc on this file alone.
// Each `@ts-expect-error` fails the check when the line below it stops being an error, so the
// generated types keep refusing what the API refuses.
import { createPaymesh, type ListItem, type Paymesh } from '@paymesh/sdk';

declare const paymesh: Paymesh;

export async function typeChecks(): Promise<void> {
  // What the API takes compiles.
  await paymesh.post('/payments', { body: { amount: 25, user_id: 1 } });
  await paymesh.post('/payments', { body: { amount: '25.00', user_id: '1', payment_method: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' }, capture_method: 'manual' } });
  await paymesh.post('/payments/{id}/capture', { params: { path: { id: 'pay_1' } }, body: { amount_to_capture: 10 } });
  await paymesh.post('/payments', { body: { amount: 5, user_id: 1 }, params: { header: { 'idempotency-key': 'order-42' } } });
  await paymesh.get('/payments', { params: { query: { status: 'succeeded', limit: '10' } } });
  await paymesh.client.POST('/payments', { body: { amount: 1, user_id: 1 } });
  for await (const payment of paymesh.list('/payments', { query: { status: 'succeeded' } })) void (payment satisfies ListItem<'/payments'>);
  for await (const delivery of paymesh.list('/notifications/webhooks/{id}/deliveries', { path: { id: 'we_1' } })) void delivery;

  // @ts-expect-error createPayment without `amount`, a required field
  await paymesh.post('/payments', { body: { user_id: 1 } });
  // @ts-expect-error `amount` of the wrong type
  await paymesh.post('/payments', { body: { amount: true, user_id: 1 } });
  // @ts-expect-error a field the operation does not take
  await paymesh.post('/payments', { body: { amount: 1, user_id: 1, tip: 5 } });
  // @ts-expect-error a path the API does not have
  await paymesh.get('/nowhere');
  // @ts-expect-error a method the path does not have (payments are never deleted)
  await paymesh.delete('/payments/{id}', { params: { path: { id: 'pay_1' } } });
  // @ts-expect-error the path parameter is required
  await paymesh.get('/payments/{id}');
  // @ts-expect-error capture_method is automatic or manual
  await paymesh.post('/payments', { body: { amount: 1, user_id: 1, capture_method: 'later' } });
  // @ts-expect-error the raw client refuses the same
  await paymesh.client.POST('/payments', { body: { user_id: 1 } });
  // @ts-expect-error only lists that page with starting_after
  paymesh.list('/wallet');
  // @ts-expect-error a list's query is checked too
  paymesh.list('/payments', { query: { status: 42 } });
  // @ts-expect-error createPaymesh needs a baseUrl
  createPaymesh({ token: 't' });
}
