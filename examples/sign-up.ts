// What every example but the first starts with: a new user (a fresh name each run), logged in,
// and the SDK with their token. 01-register-and-log-in.ts walks through the same steps one by one.
import { createPaymesh, logIn, type Paymesh } from '@paymesh/sdk';

export const baseUrl = process.env.PAYMESH_URL ?? 'http://localhost:8080';

export async function signUp(): Promise<{ paymesh: Paymesh; userId: number; username: string }> {
  const username = `ex${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const password = `pw-${crypto.randomUUID()}`;
  const anonymous = createPaymesh({ baseUrl });
  await anonymous.post('/users', { body: { username, email: `${username}@example.com`, password } });
  const token = await logIn({ baseUrl, username, password });
  const paymesh = createPaymesh({ baseUrl, token });
  const me = await paymesh.get('/users/me');
  console.log(`signed up and logged in as ${username} (user ${me.id})`);
  return { paymesh, userId: me.id, username };
}
