// The README's walk-through, step 1 and 2, with the SDK: register a user, log in, read who we are.
//   PAYMESH_URL=http://localhost:8080 node examples/01-register-and-log-in.ts
import { AuthenticationError, createPaymesh, logIn } from '@paymesh/sdk';

const baseUrl = process.env.PAYMESH_URL ?? 'http://localhost:8080';
const username = process.env.PAYMESH_USERNAME ?? `alice${Date.now().toString(36)}`;
const password = process.env.PAYMESH_PASSWORD ?? 'correct-horse-battery-staple';

// Registration and login are public: no token yet.
const anonymous = createPaymesh({ baseUrl });
const registration = await anonymous.post('/users', { body: { username, email: `${username}@example.com`, password } });
console.log(`registered ${username}: ${registration.message}`);

const token = await logIn({ baseUrl, username, password });
console.log(`logged in: an access token of ${token.length} characters`);

const paymesh = createPaymesh({ baseUrl, token });
const me = await paymesh.get('/users/me');
console.log(`GET /users/me: user ${me.id}, ${me.username}, email verified: ${me.email_verified}`);

// A wrong password is a typed error, not a status code to compare.
try {
  await logIn({ baseUrl, username, password: 'not my password' });
  throw new Error('a wrong password was accepted');
} catch (error) {
  if (!(error instanceof AuthenticationError)) throw error;
  console.log(`a wrong password is refused: ${error.status} ${error.code}`);
}
