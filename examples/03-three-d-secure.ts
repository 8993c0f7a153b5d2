// 3-D Secure, as in the README: a card that asks the cardholder to authenticate leaves the
// payment in requires_action; once they have, confirming it completes the payment.
//   PAYMESH_URL=http://localhost:8080 node examples/03-three-d-secure.ts
import { signUp } from './sign-up.ts';

const { paymesh, userId } = await signUp();

const created = await paymesh.post('/payments', { body: { amount: 9.99, user_id: userId, payment_method: 'pm_card_authenticationRequired' } });
console.log(`created ${created.payment.id}: ${created.payment.status} (${created.payment.next_action?.type})`);
if (created.payment.status !== 'requires_action') throw new Error(`expected requires_action, got ${created.payment.status}`);

// Here the app would show the bank's challenge; the test processor counts it as passed.
const confirmed = await paymesh.post('/payments/{id}/confirm', { params: { path: { id: created.payment.id } }, body: {} });
console.log(`confirmed: ${confirmed.status}, ${confirmed.amount_received} cents received`);
if (confirmed.status !== 'succeeded') throw new Error(`expected succeeded, got ${confirmed.status}`);
