// Idempotency-Key on POST /payments, with Stripe's semantics: the first response is replayed byte
// for byte, other parameters are refused, a duplicate in flight is a 409, keys belong to their
// caller, and a request that failed validation stores nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, suitePlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';

for (const backend of backends()) {
  describe(`Idempotency-Key (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice', 'bob'] });

    /** Raw POST so that bodies can be compared byte for byte. */
    const post = async (token: string, body: string, key?: string) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      if (key !== undefined) headers['idempotency-key'] = key;
      const response = await fetch(`${suite.platform.gatewayUrl}/payments`, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
      return { status: response.status, text: await response.text(), replayed: response.headers.get('idempotent-replayed') };
    };
    const paymentsFor = async (userId: number) => Number((await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payments where user_id = ${String(userId)}`))[0]!.n);

    test('the same key and body replay the first response byte for byte, marked Idempotent-Replayed, and move money once', async () => {
      const key = randomUUID();
      const before = await paymentsFor(suite.alice.id);
      const body = `{"amount": 12.34, "user_id": ${suite.alice.id}}`;
      const first = await post(suite.alice.token, body, key);
      const again = await post(suite.alice.token, body, key);
      // The same parameters in another key order are the same request.
      const reordered = await post(suite.alice.token, `{"user_id": ${suite.alice.id}, "amount": 12.34}`, key);
      assert.equal(first.status, 200);
      assert.equal(first.replayed, null);
      for (const replay of [again, reordered]) {
        assert.equal(replay.status, 200);
        assert.equal(replay.text, first.text);
        assert.equal(replay.replayed, 'true');
      }
      assert.equal(await paymentsFor(suite.alice.id), before + 1);
    });

    test('the same key with other parameters is refused with idempotency_error and changes nothing', async () => {
      const key = randomUUID();
      assert.equal((await post(suite.alice.token, `{"amount": 5, "user_id": ${suite.alice.id}}`, key)).status, 200);
      const before = await paymentsFor(suite.alice.id);
      const other = await post(suite.alice.token, `{"amount": 6, "user_id": ${suite.alice.id}}`, key);
      assert.equal(other.status, 400);
      const error = JSON.parse(other.text).error;
      assert.equal(error.type, 'idempotency_error');
      assert.equal(error.code, 'idempotency_key_reused');
      assert.equal(await paymentsFor(suite.alice.id), before);
    });

    test("keys belong to their caller: another user's identical key is a new request", async () => {
      const key = randomUUID();
      const mine = await post(suite.alice.token, `{"amount": 1, "user_id": ${suite.alice.id}}`, key);
      const theirs = await post(suite.bob.token, `{"amount": 1, "user_id": ${suite.bob.id}}`, key);
      assert.equal(mine.status, 200);
      assert.equal(theirs.status, 200);
      assert.equal(theirs.replayed, null);
      assert.notEqual(JSON.parse(theirs.text).payment.id, JSON.parse(mine.text).payment.id);
    });

    test('a request that failed validation stores nothing: the key is still free afterwards', async () => {
      const key = randomUUID();
      const invalid = await post(suite.alice.token, `{"amount": 1.001, "user_id": ${suite.alice.id}}`, key);
      assert.equal(invalid.status, 400);
      const forbidden = await post(suite.alice.token, `{"amount": 1, "user_id": ${suite.bob.id}}`, key);
      assert.equal(forbidden.status, 403);
      const valid = await post(suite.alice.token, `{"amount": 2, "user_id": ${suite.alice.id}}`, key);
      assert.equal(valid.status, 200);
      assert.equal(valid.replayed, null);
    });

    test('a refusal after execution began (a declined card) is the outcome a repeat gets back', async () => {
      const key = randomUUID();
      const body = `{"amount": 3, "user_id": ${suite.alice.id}, "payment_method": "pm_card_visa_chargeDeclined"}`;
      const first = await post(suite.alice.token, body, key);
      assert.equal(first.status, 402);
      const again = await post(suite.alice.token, body, key);
      assert.equal(again.status, 402);
      assert.equal(again.text, first.text);
      assert.equal(again.replayed, 'true');
    });

    test('an unknown payer is refused before the key is claimed: nothing is stored, so a retry is checked anew', async () => {
      const key = randomUUID();
      const body = '{"amount": 3, "user_id": 987654321}';
      const first = await post(suite.adminToken, body, key);
      assert.equal(first.status, 404);
      const again = await post(suite.adminToken, body, key);
      assert.equal(again.status, 404);
      assert.equal(again.replayed, null);
      assert.equal((await queryRows(suite.db, sql`select 1 from idempotency_keys where key = ${key}`)).length, 0);
    });

    test('concurrent requests with one key create exactly one payment; the others get the same response or a 409', async () => {
      const key = randomUUID();
      const before = await paymentsFor(suite.bob.id);
      const body = `{"amount": 9.99, "user_id": ${suite.bob.id}}`;
      const responses = await Promise.all(Array.from({ length: 20 }, () => post(suite.bob.token, body, key)));
      assert.equal(await paymentsFor(suite.bob.id), before + 1);
      const succeeded = responses.filter((r) => r.status === 200);
      const inFlight = responses.filter((r) => r.status === 409);
      assert.equal(succeeded.length + inFlight.length, responses.length, responses.map((r) => r.status).join(','));
      assert.ok(succeeded.length >= 1);
      for (const r of succeeded) assert.equal(r.text, succeeded[0]!.text);
      for (const r of inFlight) assert.equal(JSON.parse(r.text).error.code, 'idempotency_key_in_use');
      // Once the first has finished, every retry gets its response.
      const retry = await post(suite.bob.token, body, key);
      assert.equal(retry.text, succeeded[0]!.text);
    });

    test('a malformed Idempotency-Key is refused with 400', async () => {
      const response = await post(suite.alice.token, `{"amount": 1, "user_id": ${suite.alice.id}}`, 'k'.repeat(256));
      assert.equal(response.status, 400);
      assert.equal(JSON.parse(response.text).error.code, 'idempotency_key_invalid');
    });
  });
}
