// Refunds, as in the README: a user pays, the admin refunds part of it, the user sees the refund.
// The admin's password: ADMIN_PASSWORD, else the one the first `npm start` wrote to
// $PAYMESH_DIR/var/bootstrap-admin.txt (PAYMESH_DIR defaults to the current folder).
//   PAYMESH_URL=http://localhost:8080 ADMIN_PASSWORD=… node examples/04-refund-as-admin.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPaymesh, logIn } from '@paymesh/sdk';
import { baseUrl, signUp } from './sign-up.ts';

function adminPassword(): string {
  if (process.env.ADMIN_PASSWORD !== undefined) return process.env.ADMIN_PASSWORD;
  const file = join(process.env.PAYMESH_DIR ?? process.cwd(), 'var/bootstrap-admin.txt');
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('password='));
  if (line === undefined) throw new Error(`no password= line in ${file}: set ADMIN_PASSWORD`);
  return line.slice('password='.length);
}

const { paymesh, userId } = await signUp();
const paid = await paymesh.post('/payments', { body: { amount: 40, user_id: userId } });
console.log(`the user paid ${paid.payment.id}: ${paid.payment.amount} cents`);

const admin = createPaymesh({ baseUrl, token: await logIn({ baseUrl, username: 'admin', password: adminPassword() }) });
const refund = await admin.post('/payments/{id}/refunds', { params: { path: { id: paid.payment.id } }, body: { amount: 10, reason: 'requested_by_customer' } });
console.log(`the admin refunded ${refund.amount} cents: ${refund.id}, ${refund.status}`);

const refunds = await paymesh.get('/payments/{id}/refunds', { params: { path: { id: paid.payment.id } } });
console.log(`the user sees ${refunds.data.length} refund(s) on the payment`);
const payment = await paymesh.get('/payments/{id}', { params: { path: { id: paid.payment.id } } });
console.log(`the payment now shows ${payment.amount_refunded} of ${payment.amount_received} cents refunded`);
if (payment.amount_refunded !== 1000) throw new Error(`expected 1000 cents refunded, got ${payment.amount_refunded}`);
