// Paying, as in the README's "Payments": card details, a declined card, authorise now and capture
// later, then every payment listed page by page.
//   PAYMESH_URL=http://localhost:8080 node examples/02-pay-with-a-card.ts
import { CardError } from '@paymesh/sdk';
import { signUp } from './sign-up.ts';

const { paymesh, userId } = await signUp();

// Card details (the test processor's Visa); the SDK adds an Idempotency-Key, so a retry never pays twice.
const paid = await paymesh.post('/payments', {
  body: { amount: '25.00', user_id: userId, payment_method: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' } },
});
// The payment holds the method it was paid with: here a card (a wallet payment has no card).
const method = paid.payment.payment_method;
if (method?.type !== 'card') throw new Error(`expected a card payment, got ${JSON.stringify(method)}`);
console.log(`paid ${paid.payment.id}: ${paid.payment.status}, ${method.card.brand} •••• ${method.card.last4}`);

// A declined card is a CardError carrying the decline code and the payment it left behind.
try {
  await paymesh.post('/payments', { body: { amount: 25, user_id: userId, payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' } });
  throw new Error('the declined card was charged');
} catch (error) {
  if (!(error instanceof CardError)) throw error;
  console.log(`declined: ${error.code} (${error.declineCode}), request ${error.requestId}`);
}

// Authorise 80.00 now, capture 60.00 later: the rest is released.
const held = await paymesh.post('/payments', { body: { amount: 80, user_id: userId, capture_method: 'manual' } });
console.log(`authorised ${held.payment.id}: ${held.payment.status}`);
const captured = await paymesh.post('/payments/{id}/capture', { params: { path: { id: held.payment.id } }, body: { amount_to_capture: 60 } });
console.log(`captured ${captured.amount_received} of ${captured.amount} cents: ${captured.status}`);

// Every payment of ours, newest first, two per page: list() follows has_more / starting_after.
let count = 0;
for await (const payment of paymesh.list('/payments', { query: { limit: '2' } })) {
  count++;
  console.log(`  ${payment.id}  ${payment.status}  ${payment.amount} ${payment.currency}`);
}
console.log(`${count} payments listed`);
if (count < 2) throw new Error(`expected at least the two successful payments, listed ${count}`);
