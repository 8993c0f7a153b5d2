// Idempotency-Key on every POST of the payments service (create, confirm, capture, cancel, refund,
// save a card, top up): a repeat replays the first response byte for byte and moves money once,
// other parameters are refused, a request that failed validation stores nothing; concurrent
// duplicates all get the first response; a key still in flight after the wait is a 409; keys
// expire after 24 hours.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, suitePlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { claimIdempotencyKey, deleteExpiredIdempotencyKeys, IdempotencyClaimLostError, storeIdempotentResponse } from '../src/idempotency/idempotency-key.ts';
import { assertInvariantsOverScenarios } from './assert-ledger-invariants.ts';
import { parseJsonWithExactAmounts } from '../src/money/json-with-exact-amounts.ts';

type User = { id: number; token: string };
type Raw = { status: number; text: string; replayed: string | null };
type Counts = Record<'payments' | 'transfers' | 'refunds' | 'paymentMethods' | 'topUps' | 'outbox' | 'keys', number> & { volume: bigint };

const nextYear = new Date().getUTCFullYear() + 1;
const cardJson = (number: string) => `{"number": "${number}", "exp_month": 12, "exp_year": ${nextYear}, "cvc": "123"}`;

/** One POST route: how to get a fresh target, the request, another request, and one that fails validation. */
interface RouteCase {
  readonly route: string;
  /** Returns the path, the caller's token and the bodies (JSON text, sent as written). */
  setup(): Promise<{ path: string; token: string; body: string; otherBody: string; invalidBody: string; invalidStatus: number }>;
  /** What one execution adds to the counts. */
  readonly adds: Partial<Record<keyof Counts, number>>;
}

for (const backend of backends()) {
  describe(`Idempotency-Key on every POST (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice'] });

    /** Raw POST so that bodies can be compared byte for byte. */
    const post = async (path: string, token: string, body: string, key?: string): Promise<Raw> => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      if (key !== undefined) headers['idempotency-key'] = key;
      const response = await fetch(`${suite.platform.gatewayUrl}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
      return { status: response.status, text: await response.text(), replayed: response.headers.get('idempotent-replayed') };
    };
    const counts = async (): Promise<Counts> => {
      const [row] = await queryRows<Record<string, string>>(suite.db, sql`select
        (select count(*) from payments)::text as payments, (select count(*) from ledger_transfers)::text as transfers,
        (select count(*) from refunds)::text as refunds, (select count(*) from payment_methods)::text as "paymentMethods",
        (select count(*) from wallet_top_ups)::text as "topUps", (select count(*) from outbox)::text as outbox,
        (select count(*) from idempotency_keys)::text as keys,
        (select coalesce(sum(debits_posted + credits_posted + debits_pending + credits_pending), 0)::text from ledger_accounts) as volume`);
      return {
        payments: Number(row!.payments), transfers: Number(row!.transfers), refunds: Number(row!.refunds), paymentMethods: Number(row!.paymentMethods),
        topUps: Number(row!.topUps), outbox: Number(row!.outbox), keys: Number(row!.keys), volume: BigInt(row!.volume!),
      };
    };
    /** The counts' changes, the ledger's volume left out (it is compared separately). */
    const delta = (from: Counts, to: Counts) => Object.fromEntries((Object.keys(from) as (keyof Counts)[]).filter((k) => k !== 'volume' && to[k] !== from[k]).map((k) => [k, Number(to[k]) - Number(from[k])]));
    const createPayment = async (body: Record<string, unknown>, user: User = suite.alice) => {
      const response = await suite.platform.api.call('POST', '/payments', { token: user.token, json: { user_id: user.id, ...body } });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body.payment as { id: string; status: string };
    };

    const routes: RouteCase[] = [
      {
        route: 'POST /payments',
        adds: { payments: 1, transfers: 1, paymentMethods: 1, outbox: 2, keys: 1 },
        async setup() {
          return {
            path: '/payments', token: suite.alice.token,
            body: `{"amount": 12.34, "user_id": ${suite.alice.id}}`, otherBody: `{"amount": 12.35, "user_id": ${suite.alice.id}}`,
            invalidBody: `{"amount": 12.345, "user_id": ${suite.alice.id}}`, invalidStatus: 400,
          };
        },
      },
      {
        route: 'POST /payments/:id/confirm',
        adds: { transfers: 1, outbox: 1, keys: 1 },
        async setup() {
          const payment = await createPayment({ amount: 7, payment_method: 'pm_card_visa', confirm: false });
          assert.equal(payment.status, 'requires_confirmation');
          return {
            path: `/payments/${payment.id}/confirm`, token: suite.alice.token,
            body: '{}', otherBody: '{"payment_method": "pm_card_visa"}',
            invalidBody: `{"payment_method": ${cardJson('4242424242424241')}}`, invalidStatus: 402,
          };
        },
      },
      {
        route: 'POST /payments/:id/capture',
        adds: { transfers: 1, outbox: 2, keys: 1 },
        async setup() {
          const payment = await createPayment({ amount: 10, capture_method: 'manual' });
          assert.equal(payment.status, 'requires_capture');
          return {
            path: `/payments/${payment.id}/capture`, token: suite.alice.token,
            body: '{"amount_to_capture": 5.5}', otherBody: '{"amount_to_capture": 6}',
            invalidBody: '{"amount_to_capture": 5.555}', invalidStatus: 400,
          };
        },
      },
      {
        route: 'POST /payments/:id/cancel',
        adds: { transfers: 1, outbox: 1, keys: 1 },
        async setup() {
          const payment = await createPayment({ amount: 11, capture_method: 'manual' });
          return {
            path: `/payments/${payment.id}/cancel`, token: suite.alice.token,
            body: '{"cancellation_reason": "requested_by_customer"}', otherBody: '{"cancellation_reason": "duplicate"}',
            invalidBody: '{"cancellation_reason": "bored"}', invalidStatus: 400,
          };
        },
      },
      {
        route: 'POST /payments/:id/refunds',
        adds: { refunds: 1, transfers: 2, outbox: 2, keys: 1 }, // reserved, then posted
        async setup() {
          const payment = await createPayment({ amount: 20 });
          return {
            path: `/payments/${payment.id}/refunds`, token: suite.adminToken,
            body: '{"amount": 4}', otherBody: '{"amount": 5}',
            invalidBody: '{"amount": "4.001"}', invalidStatus: 400,
          };
        },
      },
      {
        route: 'POST /payment_methods',
        adds: { paymentMethods: 1, keys: 1 },
        async setup() {
          return {
            path: '/payment_methods', token: suite.alice.token,
            body: `{"card": ${cardJson('4242424242424242')}}`, otherBody: `{"card": ${cardJson('5555555555554444')}}`,
            invalidBody: `{"card": ${cardJson('4242424242424241')}}`, invalidStatus: 402,
          };
        },
      },
      {
        route: 'POST /wallet/top-ups',
        adds: { topUps: 1, transfers: 1, paymentMethods: 1, outbox: 1, keys: 1 },
        async setup() {
          return {
            path: '/wallet/top-ups', token: suite.alice.token,
            body: '{"amount": 25, "payment_method": "pm_card_visa"}', otherBody: '{"amount": 26, "payment_method": "pm_card_visa"}',
            invalidBody: '{"amount": 0, "payment_method": "pm_card_visa"}', invalidStatus: 400,
          };
        },
      },
    ];

    for (const c of routes) {
      describe(c.route, () => {
        test('the same key and body replay the first response byte for byte, marked idempotent-replayed, and move money once', async () => {
          const { path, token, body } = await c.setup();
          const key = randomUUID();
          const start = await counts();
          const first = await post(path, token, body, key);
          assert.equal(first.status, 200, first.text);
          assert.equal(first.replayed, null);
          const once = await counts();
          assert.deepEqual(delta(start, once), c.adds);
          assert.ok(c.adds.transfers === undefined || once.volume !== start.volume, 'the first request moved money');
          for (let i = 0; i < 3; i++) {
            const again = await post(path, token, body, key);
            assert.equal(again.status, first.status);
            assert.equal(again.text, first.text);
            assert.equal(again.replayed, 'true');
          }
          assert.deepEqual(await counts(), once);
          // without the key the same request is a new one (a second capture, say, is refused or runs again)
          const unkeyed = await post(path, token, body);
          assert.notEqual(unkeyed.text, first.text);
        });

        test('the same key with another body is 400 idempotency_error and changes nothing', async () => {
          const { path, token, body, otherBody } = await c.setup();
          const key = randomUUID();
          const first = await post(path, token, body, key);
          assert.equal(first.status, 200, first.text);
          const start = await counts();
          const other = await post(path, token, otherBody, key);
          assert.equal(other.status, 400, other.text);
          const error = JSON.parse(other.text).error;
          assert.equal(error.type, 'idempotency_error');
          assert.equal(error.code, 'idempotency_key_reused');
          assert.equal(other.replayed, null);
          assert.deepEqual(await counts(), start);
          // the first request's response is still what the key replays
          assert.equal((await post(path, token, body, key)).text, first.text);
        });

        test('a request that failed validation stores nothing: a valid retry with that key runs', async () => {
          const { path, token, body, invalidBody, invalidStatus } = await c.setup();
          const key = randomUUID();
          const start = await counts();
          const invalid = await post(path, token, invalidBody, key);
          assert.equal(invalid.status, invalidStatus, invalid.text);
          assert.deepEqual(await counts(), start);
          const [stored] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from idempotency_keys where key = ${key}`);
          assert.equal(stored!.n, '0');
          const valid = await post(path, token, body, key);
          assert.equal(valid.status, 200, valid.text);
          assert.equal(valid.replayed, null);
          assert.deepEqual(delta(start, await counts()), c.adds);
        });

        test('a malformed Idempotency-Key is 400 idempotency_key_invalid and runs nothing', async () => {
          const { path, token, body } = await c.setup();
          const start = await counts();
          // An empty key too: a client whose key variable is empty is told, not left unprotected.
          for (const key of ['', 'k'.repeat(256), 'with space', 'caf\u00e9']) {
            const response = await post(path, token, body, key);
            assert.equal(response.status, 400, `${JSON.stringify(key)} ${response.text}`);
            assert.equal(JSON.parse(response.text).error.code, 'idempotency_key_invalid');
          }
          assert.deepEqual(await counts(), start);
        });
      });
    }

    test('a key used on one route is refused on another (the path is part of the request)', async () => {
      const key = randomUUID();
      const paid = await post('/payments', suite.alice.token, `{"amount": 3, "user_id": ${suite.alice.id}}`, key);
      assert.equal(paid.status, 200);
      const start = await counts();
      const topUp = await post('/wallet/top-ups', suite.alice.token, '{"amount": 3, "payment_method": "pm_card_visa"}', key);
      assert.equal(topUp.status, 400, topUp.text);
      assert.equal(JSON.parse(topUp.text).error.code, 'idempotency_key_reused');
      // the same action on another payment is another request too
      const one = await createPayment({ amount: 4, capture_method: 'manual' });
      const two = await createPayment({ amount: 4, capture_method: 'manual' });
      const captureKey = randomUUID();
      assert.equal((await post(`/payments/${one.id}/capture`, suite.alice.token, '{}', captureKey)).status, 200);
      const mid = await counts();
      const other = await post(`/payments/${two.id}/capture`, suite.alice.token, '{}', captureKey);
      assert.equal(other.status, 400);
      assert.equal(JSON.parse(other.text).error.code, 'idempotency_key_reused');
      assert.deepEqual(await counts(), mid);
      assert.equal(start.topUps, mid.topUps);
    });

    test('a refusal after execution began (a declined card, a wrong state) is stored and replayed too', async () => {
      const declinedKey = randomUUID();
      const body = `{"amount": 5, "user_id": ${suite.alice.id}, "payment_method": "pm_card_visa_chargeDeclined"}`;
      const declined = await post('/payments', suite.alice.token, body, declinedKey);
      assert.equal(declined.status, 402);
      const start = await counts();
      const again = await post('/payments', suite.alice.token, body, declinedKey);
      assert.deepEqual(again, { ...declined, replayed: 'true' });
      assert.deepEqual(await counts(), start);
      // a top-up declined by the card's issuer
      const topUpKey = randomUUID();
      const topUpBody = '{"amount": 5, "payment_method": "pm_card_visa_chargeDeclined"}';
      const refused = await post('/wallet/top-ups', suite.alice.token, topUpBody, topUpKey);
      assert.equal(refused.status, 402);
      assert.deepEqual(await post('/wallet/top-ups', suite.alice.token, topUpBody, topUpKey), { ...refused, replayed: 'true' });
      // capturing a payment that is already captured
      const payment = await createPayment({ amount: 6 });
      const wrongStateKey = randomUUID();
      const wrong = await post(`/payments/${payment.id}/capture`, suite.alice.token, '{}', wrongStateKey);
      assert.equal(wrong.status, 400);
      assert.equal(JSON.parse(wrong.text).error.code, 'payment_unexpected_state');
      assert.deepEqual(await post(`/payments/${payment.id}/capture`, suite.alice.token, '{}', wrongStateKey), { ...wrong, replayed: 'true' });
    });

    test('100 concurrent POST /payments with one key create exactly one payment, and all 100 get the same 200 response', async () => {
      const bob = await suite.platform.api.signUp();
      const key = randomUUID();
      const body = `{"amount": 9.99, "user_id": ${bob.id}}`;
      const start = await counts();
      const responses = await Promise.all(Array.from({ length: 100 }, () => post('/payments', bob.token, body, key)));
      const statuses = [...new Set(responses.map((r) => r.status))];
      assert.deepEqual(statuses, [200], responses.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text}`).slice(0, 3).join('\n'));
      for (const r of responses) assert.equal(r.text, responses[0]!.text);
      assert.equal(responses.filter((r) => r.replayed === null).length, 1);
      assert.equal(responses.filter((r) => r.replayed === 'true').length, 99);
      assert.deepEqual(delta(start, await counts()), { payments: 1, transfers: 1, paymentMethods: 1, outbox: 2, keys: 1 });
      const [payments] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payments where user_id = ${String(bob.id)}`);
      assert.equal(payments!.n, '1');
    });

    describe('a key still in flight', () => {
      const ctx = () => suite.platform.service('payments').context;
      /** Claims `key` for `body` as a request that is still running would, its lease renewed for as long as the test needs. */
      const claimInFlight = async (user: User, key: string, body: string) => {
        const fingerprint = ctx().idempotency.fingerprint('POST', '/payments', parseJsonWithExactAmounts(body));
        await suite.db.execute(sql`insert into idempotency_keys (scope, key, request_fingerprint, state, lease_expires_at)
          values (${`user:${user.id}`}, ${key}, ${fingerprint}, 'in_flight', now() + interval '1 hour')`);
      };

      test('a duplicate waits for the first request and answers with its stored response', async () => {
        const key = randomUUID();
        const body = `{"amount": 2.5, "user_id": ${suite.alice.id}}`;
        // What the first request stores must be an answer POST /payments can give (the API document checks replays too).
        const payment = await createPayment({ amount: 2.5 });
        await claimInFlight(suite.alice, key, body);
        const start = await counts();
        const waiting = post('/payments', suite.alice.token, body, key);
        // The "first request" finishes while the duplicate waits (or before it arrives: the same answer either way).
        const stored = JSON.stringify({ success: true, message: 'stored by the first request', payment });
        await suite.db.execute(sql`update idempotency_keys set state = 'done', response_status = 200, response_body = ${stored} where scope = ${`user:${suite.alice.id}`} and key = ${key}`);
        const response = await waiting;
        assert.deepEqual(response, { status: 200, text: stored, replayed: 'true' });
        assert.deepEqual(delta(start, await counts()), {});
      });

      test('a duplicate of a request still running after the wait (PAYMENTS_IDEMPOTENCY_WAIT_MS, 5 s) is 409 idempotency_key_in_use and runs nothing', async () => {
        assert.equal(ctx().config.idempotencyWaitMs, 5_000);
        const key = randomUUID();
        const body = `{"amount": 2.75, "user_id": ${suite.alice.id}}`;
        await claimInFlight(suite.alice, key, body);
        const start = await counts();
        const response = await post('/payments', suite.alice.token, body, key);
        assert.equal(response.status, 409, response.text);
        const error = JSON.parse(response.text).error;
        assert.equal(error.type, 'idempotency_error');
        assert.equal(error.code, 'idempotency_key_in_use');
        assert.equal(response.replayed, null);
        assert.deepEqual(delta(start, await counts()), {});
        // other parameters with that key are refused at once, without waiting
        const other = await post('/payments', suite.alice.token, `{"amount": 2.76, "user_id": ${suite.alice.id}}`, key);
        assert.equal(other.status, 400);
        assert.equal(JSON.parse(other.text).error.code, 'idempotency_key_reused');
      });
    });

    test('a request whose claim was taken over cannot store its outcome: its transaction rolls back, so only one of the two takes effect', async () => {
      const key = randomUUID();
      const scope = `user:${suite.alice.id}`;
      const first = await claimIdempotencyKey(suite.db, scope, key, 'f', 3_000);
      assert.equal(first.kind, 'claimed');
      // Its lease lapses (its process stopped renewing it): a retry takes the key over.
      await suite.db.execute(sql`update idempotency_keys set lease_expires_at = now() - interval '1 second' where scope = ${scope} and key = ${key}`);
      const second = await claimIdempotencyKey(suite.db, scope, key, 'f', 3_000);
      assert.equal(second.kind, 'claimed');
      assert.equal((second as { takenOver: boolean }).takenOver, true);
      const start = await counts();
      // The first holder, still running, tries to commit its change with its outcome.
      await assert.rejects(suite.db.transaction(async (tx) => {
        await tx.execute(sql`insert into payers (user_id, status, as_of) values (999999999, 'active', now())`);
        await storeIdempotentResponse(tx, scope, key, (first as { token: string }).token, 200, '{"first":true}');
      }), IdempotencyClaimLostError);
      assert.deepEqual((await queryRows(suite.db, sql`select 1 from payers where user_id = 999999999`)).length, 0, 'the change rolled back');
      await storeIdempotentResponse(suite.db, scope, key, (second as { token: string }).token, 200, '{"second":true}');
      const replay = await claimIdempotencyKey(suite.db, scope, key, 'f', 3_000);
      assert.deepEqual(replay, { kind: 'replay', status: 200, body: '{"second":true}' });
      assert.deepEqual(delta(start, await counts()), {});
    });

    test('expired keys are reaped after 24 hours: the same key then runs a new request; a 23-hour-old key still replays', async () => {
      const body = `{"amount": 1.11, "user_id": ${suite.alice.id}}`;
      const oldKey = randomUUID();
      const recentKey = randomUUID();
      const first = await post('/payments', suite.alice.token, body, oldKey);
      const recent = await post('/payments', suite.alice.token, body, recentKey);
      assert.equal(first.status, 200);
      assert.equal(recent.status, 200);
      await suite.db.execute(sql`update idempotency_keys set created_at = created_at - interval '25 hours' where key = ${oldKey}`);
      await suite.db.execute(sql`update idempotency_keys set created_at = created_at - interval '23 hours' where key = ${recentKey}`);
      await deleteExpiredIdempotencyKeys(suite.db);
      const left = await queryRows<{ key: string }>(suite.db, sql`select key from idempotency_keys where key in (${oldKey}, ${recentKey})`);
      assert.deepEqual(left.map((r) => r.key), [recentKey]);
      const start = await counts();
      const anew = await post('/payments', suite.alice.token, body, oldKey);
      assert.equal(anew.status, 200);
      assert.equal(anew.replayed, null);
      assert.notEqual(JSON.parse(anew.text).payment.id, JSON.parse(first.text).payment.id);
      assert.equal((await counts()).payments, start.payments + 1);
      const replay = await post('/payments', suite.alice.token, body, recentKey);
      assert.deepEqual(replay, { ...recent, replayed: 'true' });
      assert.equal((await counts()).payments, start.payments + 1);
    });

    test('the ledger invariants hold after every scenario above', async () => {
      await assertInvariantsOverScenarios(suite.db);
    });
  });
}
