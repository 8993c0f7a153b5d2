// The SDK against a real platform (PGlite, every service in process): payments created, read and
// listed page after page, retries that never pay twice, and refusals thrown as typed errors with
// the error object's fields.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type SignedUpUser, type TestPlatform } from '@paymesh/app/testing';
import { AuthenticationError, CardError, createPaymesh, IdempotencyError, InvalidRequestError, logIn, PermissionError, type Paymesh } from '@paymesh/sdk';

describe('payments through the SDK', () => {
  let platform: TestPlatform;
  let alice: SignedUpUser;
  let paymesh: Paymesh;
  /** Bob pays five times, for the lists. */
  let bob: SignedUpUser;
  let bobs: Paymesh;
  /** Every request the SDK sent, as `METHOD path?query`. */
  const sent: string[] = [];
  const recording = (request: Request) => {
    const url = new URL(request.url);
    sent.push(`${request.method} ${url.pathname}${url.search}`);
    return fetch(request);
  };

  before(async () => {
    platform = await startTestPlatform('pglite');
    alice = await platform.api.signUp();
    bob = await platform.api.signUp();
    paymesh = createPaymesh({ baseUrl: platform.gatewayUrl, token: alice.token });
    bobs = createPaymesh({ baseUrl: platform.gatewayUrl, token: bob.token, fetch: recording });
  });
  after(async () => {
    await platform?.stop();
  });

  test('a payment created through the SDK is read back by its id', async () => {
    const created = await paymesh.post('/payments', { body: { amount: '12.34', user_id: alice.id } });
    assert.equal(created.payment.amount, 1234);
    assert.equal(created.payment.status, 'succeeded');
    const read = await paymesh.get('/payments/{id}', { params: { path: { id: created.payment.id } } });
    assert.equal(read.id, created.payment.id);
    assert.equal(read.amount, 1234);
  });

  test('list() walks every page: starting_after the last id while has_more, newest first, each payment once', async () => {
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await bobs.post('/payments', { body: { amount: i, user_id: bob.id } })).payment.id);
    sent.length = 0;
    const listed: string[] = [];
    for await (const payment of bobs.list('/payments', { query: { limit: '2' } })) listed.push(String(payment.id));
    assert.deepEqual(listed, ids.toReversed());
    assert.deepEqual(sent, [
      'GET /payments?limit=2',
      `GET /payments?limit=2&starting_after=${ids[3]}`,
      `GET /payments?limit=2&starting_after=${ids[1]}`,
    ]);
    // Filters go along on every page; leaving the loop early stops asking.
    sent.length = 0;
    for await (const payment of bobs.list('/payments', { query: { limit: '1', status: 'succeeded' } })) {
      assert.equal(payment.status, 'succeeded');
      break;
    }
    assert.deepEqual(sent, ['GET /payments?limit=1&status=succeeded']);
  });

  test('the inbox\'s bare-array list pages too, by its paymesh-has-more header', async () => {
    await platform.settle();
    const everything = await bobs.get('/notifications', { params: { query: { limit: '100' } } });
    assert.equal(everything.length, 5, 'a notification for each of bob\'s payments');
    sent.length = 0;
    const listed: unknown[] = [];
    for await (const notification of bobs.list('/notifications', { query: { limit: '2' } })) listed.push(notification.id);
    assert.deepEqual(listed, everything.map((n) => n.id));
    assert.equal(sent.length, 3, 'pages of 2, 2 and 1');
  });

  test('a request with the same Idempotency-Key is answered once: the same payment comes back', async () => {
    const body = { amount: 7, user_id: alice.id };
    const key = `order-${Date.now()}`;
    const first = await paymesh.post('/payments', { body, params: { header: { 'idempotency-key': key } } });
    const again = await paymesh.post('/payments', { body, params: { header: { 'idempotency-key': key } } });
    assert.equal(again.payment.id, first.payment.id);
    const other = await paymesh.post('/payments', { body: { amount: 8, user_id: alice.id }, params: { header: { 'idempotency-key': key } } }).catch((e: unknown) => e);
    assert.ok(other instanceof IdempotencyError);
    assert.equal(other.code, 'idempotency_key_reused');
    assert.equal(other.param, 'idempotency-key');
  });

  test('the SDK\'s own key makes a POST retried after a lost answer pay once', async () => {
    // The first answer is lost on the way back (the payment was made): the retry, with the same
    // key, gets that payment's answer replayed instead of paying again.
    let lostOne = false;
    const lossy = createPaymesh({
      baseUrl: platform.gatewayUrl,
      token: alice.token,
      retries: { maxRetries: 2, sleep: async () => undefined },
      fetch: async (request) => {
        const response = await fetch(request);
        if (!lostOne && request.method === 'POST') {
          lostOne = true;
          await response.body?.cancel();
          throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
        }
        return response;
      },
    });
    const earlier = await paymesh.get('/payments', { params: { query: { limit: '100' } } });
    const paid = await lossy.post('/payments', { body: { amount: 3, user_id: alice.id } });
    const later = await paymesh.get('/payments', { params: { query: { limit: '100' } } });
    assert.equal(later.data.length, earlier.data.length + 1, 'one payment, not two');
    assert.equal(later.data[0]?.id, paid.payment.id);
  });

  test('a bad request throws InvalidRequestError with status, type, code, message, param and the request id', async () => {
    const refused = await paymesh.post('/payments', { body: { amount: '1.234', user_id: alice.id } }).catch((e: unknown) => e);
    assert.ok(refused instanceof InvalidRequestError, String(refused));
    assert.equal(refused.status, 400);
    assert.equal(refused.type, 'invalid_request_error');
    assert.equal(refused.code, 'amount_invalid');
    assert.equal(refused.param, 'amount');
    assert.ok(refused.message.length > 0);
    assert.match(refused.requestId ?? '', /.+/, 'the x-request-id the platform logged it under');
    // Caught by the shape the generated types allow but the server refuses (an empty body field).
    const missing = await paymesh.post('/payments', { body: JSON.parse(`{"user_id": ${alice.id}}`) }).catch((e: unknown) => e);
    assert.ok(missing instanceof InvalidRequestError);
    assert.equal(missing.code, 'parameter_missing');
    assert.equal(missing.param, 'amount');
  });

  test('a declined card throws CardError with the decline code and the payment it left', async () => {
    const declined = await paymesh.post('/payments', { body: { amount: 25, user_id: alice.id, payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' } }).catch((e: unknown) => e);
    assert.ok(declined instanceof CardError, String(declined));
    assert.equal(declined.status, 402);
    assert.equal(declined.code, 'card_declined');
    assert.equal(declined.declineCode, 'insufficient_funds');
    assert.equal((declined.payment as { status: string }).status, 'requires_payment_method');
  });

  test('a bad token throws AuthenticationError; a user\'s token on an admin route, PermissionError', async () => {
    const stranger = createPaymesh({ baseUrl: platform.gatewayUrl, token: 'nope' });
    const refused = await stranger.get('/payments').catch((e: unknown) => e);
    assert.ok(refused instanceof AuthenticationError);
    assert.equal(refused.status, 401);
    assert.equal(refused.code, 'invalid_token');
    const forbidden = await paymesh.get('/users').catch((e: unknown) => e);
    assert.ok(forbidden instanceof PermissionError, String(forbidden));
    assert.equal(forbidden.status, 403);
  });

  test('logIn gives a token the SDK pays with; wrong credentials throw AuthenticationError', async () => {
    const token = await logIn({ baseUrl: platform.gatewayUrl, username: alice.username, password: alice.password });
    const me = await createPaymesh({ baseUrl: platform.gatewayUrl, token }).get('/users/me');
    assert.equal(me.id, alice.id);
    const refused = await logIn({ baseUrl: platform.gatewayUrl, username: alice.username, password: 'wrong password!' }).catch((e: unknown) => e);
    assert.ok(refused instanceof AuthenticationError, String(refused));
    assert.equal(refused.status, 401);
  });

  test('the raw client answers { data, error, response } and never throws on an HTTP error', async () => {
    const { data, error, response } = await paymesh.client.GET('/payments/{id}', { params: { path: { id: 'pay_doesnotexist' } } });
    assert.equal(data, undefined);
    assert.equal(response.status, 404);
    assert.equal(error?.error.type, 'invalid_request_error');
  });
});
