// Payments through the gateway: exact decimal amounts, currencies, who may pay for whom, reading
// and listing, and the ledger behind it all: one balanced transfer and one outbox event per
// payment, nothing written for a refused request, invariants holding under concurrency.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually, suitePlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '../src/ledger/check-invariants.ts';
import { assertInvariantsOverScenarios } from './assert-ledger-invariants.ts';
import { recordInvariantCheck } from '../src/ledger/record-invariant-check.ts';

type User = { id: number; token: string };

for (const backend of backends()) {
  describe(`payments (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice', 'bob'] });

    const pay = (body: unknown, token = suite.alice.token, headers?: Record<string, string>) => suite.platform.api.call('POST', '/payments', { token, json: body, headers });
    /** Sends the JSON text as written, so a number like 100.10 reaches the server as that text. */
    const payRaw = (fields: string, user: User = suite.alice) => pay(`{${fields}, "user_id": ${user.id}}`, user.token);
    const counts = async () => {
      const [row] = await queryRows<{ payments: number; transfers: number; outbox: number; accounts: number }>(suite.db, sql`select
        (select count(*) from payments)::int as payments, (select count(*) from ledger_transfers)::int as transfers,
        (select count(*) from outbox)::int as outbox, (select count(*) from ledger_accounts)::int as accounts`);
      return { payments: Number(row!.payments), transfers: Number(row!.transfers), outbox: Number(row!.outbox), accounts: Number(row!.accounts) };
    };
    const storedAmount = async (id: string) => (await queryRows<{ amount_minor: string; currency: string }>(suite.db, sql`select amount_minor, currency from payments where id = ${id}`))[0];
    const paymentRequestCount = async () => {
      const text = await (await fetch(suite.platform.embedded!.services.payments.metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
      const match = /^payment_request_count(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/m.exec(text);
      assert.ok(match, 'payment_request_count is exported');
      return Number(match[1]);
    };

    describe('exact amounts', () => {
      test('{"amount": 100.10} sent as JSON text is 10010 minor units, never 10009', async () => {
        const response = await payRaw('"amount": 100.10');
        assert.equal(response.status, 200);
        assert.equal(response.body.success, true);
        assert.equal(response.body.message, `Payment of $100.10 received from user ${suite.alice.id}`);
        assert.equal(response.body.payment.amount, 10010);
        assert.equal(response.body.payment.amount_decimal, '100.10');
        assert.equal(response.body.payment.currency, 'usd');
        assert.equal((await storedAmount(response.body.payment.id))?.amount_minor, '10010');
      });

      test('amounts that binary floats get wrong (0.1, 0.07, 0.29, 1.15, 4.35) are exact', async () => {
        const cases: [string, number][] = [['0.1', 10], ['0.07', 7], ['0.29', 29], ['1.15', 115], ['4.35', 435], ['8.20', 820], ['19.990', 1999], ['100', 10000], ['1000000.00', 100_000_000]];
        for (const [text, minor] of cases) {
          const response = await payRaw(`"amount": ${text}`);
          assert.equal(response.status, 200, text);
          assert.equal(response.body.payment.amount, minor, text);
          assert.equal((await storedAmount(response.body.payment.id))?.amount_minor, String(minor), text);
        }
      });

      test('a string amount such as "19.99" is accepted', async () => {
        const response = await payRaw('"amount": "19.99"');
        assert.equal(response.status, 200);
        assert.equal(response.body.payment.amount, 1999);
        assert.equal(response.body.message, `Payment of $19.99 received from user ${suite.alice.id}`);
      });

      test('too many decimals, zero, negative, non-decimal and too large amounts are refused with 400 param amount', async () => {
        const refused = ['100.001', '1.005', '0', '0.00', '"0"', '-5', '-0.01', '"-1.00"', '-0', '1e2', '"1e2"', '"1,00"', '" 1.00"', '".50"', '"5."', '"abc"', '""', '1000000.01', '99999999999999999999', '1.00000000000000000000001'];
        for (const text of refused) {
          const response = await payRaw(`"amount": ${text}`);
          assert.equal(response.status, 400, text);
          assert.equal(response.body.error.param, 'amount', text);
        }
      });

      test('an amount that is not a number or string (null, true, array, object) is refused with 400 param amount', async () => {
        for (const text of ['null', 'true', '[1]', '{"value": 1}']) {
          const response = await payRaw(`"amount": ${text}`);
          assert.equal(response.status, 400, text);
          assert.equal(response.body.error.param, 'amount', text);
        }
      });

      test('JPY has no minor unit: 500 is 500, 500.5 is refused', async () => {
        const ok = await payRaw('"amount": 500, "currency": "JPY"');
        assert.equal(ok.status, 200);
        assert.equal(ok.body.payment.amount, 500);
        assert.equal(ok.body.payment.currency, 'jpy');
        assert.equal(ok.body.message, `Payment of ¥500 received from user ${suite.alice.id}`);
        for (const text of ['500.5', '"0.5"', '1.01']) {
          const refused = await payRaw(`"amount": ${text}, "currency": "JPY"`);
          assert.equal(refused.status, 400, text);
          assert.equal(refused.body.error.param, 'amount', text);
        }
      });

      test('three-decimal currencies (KWD) keep three decimals; the currency is case-insensitive', async () => {
        const response = await payRaw('"amount": 1.5, "currency": "kwd"');
        assert.equal(response.status, 200);
        assert.equal(response.body.payment.amount, 1500);
        assert.equal(response.body.payment.amount_decimal, '1.500');
        assert.equal((await storedAmount(response.body.payment.id))?.currency.trim(), 'KWD');
        assert.equal((await payRaw('"amount": 1.0001, "currency": "KWD"')).status, 400);
      });

      test('an unknown currency is refused with 400 param currency', async () => {
        for (const currency of ['XYZ', 'usdd', 'US', '123', '']) {
          const response = await payRaw(`"amount": 1, "currency": ${JSON.stringify(currency)}`);
          assert.equal(response.status, 400, currency);
          assert.equal(response.body.error.param, 'currency', currency);
        }
      });
    });

    describe('who may pay for whom', () => {
      test("a payment for another user's user_id is refused with 403", async () => {
        const before = await counts();
        const response = await pay({ amount: 10, user_id: suite.bob.id }, suite.alice.token);
        assert.equal(response.status, 403);
        assert.equal(response.body.error.type, 'permission_error');
        assert.equal(response.body.error.param, 'user_id');
        assert.deepEqual(await counts(), before);
      });

      test('an admin may pay for any user', async () => {
        const response = await pay({ amount: '12.34', user_id: suite.bob.id }, suite.adminToken);
        assert.equal(response.status, 200);
        assert.equal(response.body.payment.user_id, suite.bob.id);
        assert.equal(response.body.message, `Payment of $12.34 received from user ${suite.bob.id}`);
        const [row] = await queryRows<{ created_by: string }>(suite.db, sql`select created_by from payments where id = ${response.body.payment.id}`);
        assert.match(row!.created_by, /^user:\d+$/);
        assert.notEqual(row!.created_by, `user:${suite.bob.id}`);
      });

      test('an unknown user_id (admin) is refused with 404 param user_id', async () => {
        const response = await pay({ amount: 1, user_id: 987654321 }, suite.adminToken);
        assert.equal(response.status, 404);
        assert.equal(response.body.error.code, 'user_not_found');
        assert.equal(response.body.error.param, 'user_id');
      });

      test('a deleted user cannot be paid for, even by an admin', async () => {
        const carol = await suite.platform.api.signUp();
        assert.equal((await suite.platform.api.call('DELETE', `/users/${carol.id}`, { token: suite.adminToken })).status, 204);
        // Payments learns of the deletion from the user.deleted event, a few milliseconds later.
        await eventually(async () => ((await queryRows<{ status: string }>(suite.db, sql`select status from payers where user_id = ${String(carol.id)}`))[0]?.status === 'deleted' ? true : undefined));
        const response = await pay({ amount: 1, user_id: carol.id }, suite.adminToken);
        assert.equal(response.status, 404);
        assert.equal(response.body.error.param, 'user_id');
      });

      test('a malformed user_id is refused with 400 param user_id; so is one past 15 digits, which a JSON number could not carry exactly', async () => {
        for (const userId of [0, -1, 1.5, '01', 'abc', null, true, 1_000_000_000_000_000, 9_007_199_254_740_992, '1000000000000000', '9007199254740993', '99999999999999999999']) {
          const response = await pay({ amount: 1, user_id: userId }, suite.adminToken);
          assert.equal(response.status, 400, JSON.stringify(userId));
          assert.equal(response.body.error.param, 'user_id', JSON.stringify(userId));
        }
        for (const path of ['/payments?user_id=9007199254740993', '/payment_methods?user_id=1000000000000000', '/wallet/9007199254740993']) {
          const response = await suite.platform.api.call('GET', path, { token: suite.adminToken });
          assert.deepEqual([response.status, response.body.error.code, response.body.error.param], [400, 'parameter_invalid', 'user_id'], path);
        }
      });

      test('an unknown body field is refused with 400 parameter_unknown', async () => {
        for (const field of ['status', 'role', 'created_by', 'amount_minor']) {
          const response = await pay({ amount: 1, user_id: suite.alice.id, [field]: 'x' });
          assert.equal(response.status, 400, field);
          assert.equal(response.body.error.code, 'parameter_unknown', field);
          assert.equal(response.body.error.param, field, field);
        }
      });

      test('a body carrying __proto__ or constructor is refused with 400 parameter_unknown and pollutes nothing', async () => {
        for (const [text, param] of [[`{"amount": 1, "user_id": ${suite.alice.id}, "__proto__": {"polluted": true}}`, '__proto__'], [`{"amount": 1, "user_id": ${suite.alice.id}, "constructor": {"prototype": {"polluted": true}}}`, 'constructor']]) {
          const response = await pay(text);
          assert.equal(response.status, 400, param);
          assert.equal(response.body.error.code, 'parameter_unknown', param);
          assert.equal(response.body.error.param, param);
        }
        assert.equal((({}) as Record<string, unknown>).polluted, undefined);
        // the service still works normally afterwards
        assert.equal((await pay({ amount: 1, user_id: suite.alice.id })).status, 200);
      });

      test('missing fields, a body that is not JSON and a form-encoded body are refused', async () => {
        const noAmount = await pay({ user_id: suite.alice.id });
        assert.equal(noAmount.status, 400);
        assert.deepEqual([noAmount.body.error.code, noAmount.body.error.param], ['parameter_missing', 'amount']);
        const noUser = await pay({ amount: 1 });
        assert.deepEqual([noUser.body.error.code, noUser.body.error.param], ['parameter_missing', 'user_id']);
        const broken = await pay('{"amount": 1, "user_id":');
        assert.equal(broken.status, 400);
        assert.equal(broken.body.error.code, 'body_malformed');
        const form = await suite.platform.api.call('POST', '/payments', { token: suite.alice.token, form: { amount: '1', user_id: String(suite.alice.id) } });
        assert.equal(form.status, 415);
        assert.equal(form.body.error.code, 'media_type_unsupported');
      });

      test('without a token the contract answers 401 Authorization header missing; with a bad one 401 Invalid token', async () => {
        const missing = await suite.platform.api.call('POST', '/payments', { json: { amount: 1, user_id: suite.alice.id } });
        assert.equal(missing.status, 401);
        assert.equal(missing.body.message, 'Authorization header missing');
        const bad = await pay({ amount: 1, user_id: suite.alice.id }, `${suite.alice.token.slice(0, -4)}AAAA`);
        assert.equal(bad.status, 401);
        assert.equal(bad.body.message, 'Invalid token');
      });

      test('a failed request writes nothing: no payment, transfer, outbox row or ledger account', async () => {
        const before = await counts();
        const attempts = [
          pay({ amount: '100.001', user_id: suite.alice.id }),
          pay({ amount: 0, user_id: suite.alice.id }),
          pay({ amount: 1, user_id: suite.alice.id, currency: 'XYZ' }),
          pay({ amount: 1, user_id: suite.alice.id, currency: 'CHF', extra: true }),
          pay({ amount: '1000000.01', user_id: suite.alice.id, currency: 'CHF' }),
          pay({ amount: 1, user_id: suite.bob.id, currency: 'CHF' }),
          pay({ amount: 1, user_id: 987654321, currency: 'CHF' }, suite.adminToken),
          suite.platform.api.call('POST', '/payments', { json: { amount: 1, user_id: suite.alice.id, currency: 'CHF' } }),
        ];
        for (const response of await Promise.all(attempts)) assert.ok(response.status >= 400 && response.status < 500, String(response.status));
        assert.deepEqual(await counts(), before);
        const [chf] = await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from ledger_accounts where currency = 'CHF'`);
        assert.equal(Number(chf!.n), 0);
      });

      test('a POST replayed with the same Idempotency-Key creates one payment and replays the first response', async () => {
        const key = randomUUID();
        const first = await pay({ amount: '7.77', user_id: suite.alice.id }, suite.alice.token, { 'idempotency-key': key });
        const second = await pay({ amount: '7.77', user_id: suite.alice.id }, suite.alice.token, { 'idempotency-key': key });
        assert.equal(first.status, 200);
        assert.equal(second.status, 200);
        assert.equal(second.body.payment.id, first.body.payment.id);
        const [row] = await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from payments where user_id = ${String(suite.alice.id)} and amount_minor = 777`);
        assert.equal(Number(row!.n), 1);
      });
    });

    describe('reading and listing', () => {
      test("GET /payments/:id answers the owner and an admin; another user's or an unknown id is 404", async () => {
        const created = await pay({ amount: 3, user_id: suite.alice.id });
        const id: string = created.body.payment.id;
        const own = await suite.platform.api.call('GET', `/payments/${id}`, { token: suite.alice.token });
        assert.equal(own.status, 200);
        assert.deepEqual(own.body, created.body.payment);
        assert.equal((await suite.platform.api.call('GET', `/payments/${id}`, { token: suite.adminToken })).status, 200);
        const foreign = await suite.platform.api.call('GET', `/payments/${id}`, { token: suite.bob.token });
        assert.equal(foreign.status, 404);
        assert.equal(foreign.body.error.code, 'payment_not_found');
        const unknown = await suite.platform.api.call('GET', '/payments/pay_doesnotexist0000', { token: suite.bob.token });
        assert.deepEqual(unknown.body, foreign.body);
      });

      test('listing with limit=2 and starting_after returns every payment exactly once, newest first', async () => {
        const dave = await suite.platform.api.signUp();
        const created: string[] = [];
        for (let i = 1; i <= 5; i++) {
          const response = await pay({ amount: `${i}.00`, user_id: dave.id }, dave.token);
          assert.equal(response.status, 200);
          created.push(response.body.payment.id);
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const query = new URLSearchParams({ limit: '2', ...(cursor === undefined ? {} : { starting_after: cursor }) });
          const response = await suite.platform.api.call('GET', `/payments?${query}`, { token: dave.token });
          assert.equal(response.status, 200);
          assert.equal(response.body.object, 'list');
          assert.ok(response.body.data.length <= 2);
          for (const payment of response.body.data) assert.equal(payment.user_id, dave.id);
          seen.push(...response.body.data.map((p: { id: string }) => p.id));
          if (!response.body.has_more) break;
          cursor = response.body.data.at(-1).id;
        }
        assert.deepEqual(seen, [...created].reverse());
      });

      test("starting_after with another user's payment id (or an unknown one) is 400 param starting_after", async () => {
        const bobs = await pay({ amount: 1, user_id: suite.bob.id }, suite.bob.token);
        for (const cursor of [bobs.body.payment.id, 'pay_doesnotexist0000']) {
          const response = await suite.platform.api.call('GET', `/payments?starting_after=${cursor}`, { token: suite.alice.token });
          assert.equal(response.status, 400, cursor);
          assert.equal(response.body.error.param, 'starting_after', cursor);
        }
        // an admin filtering by alice cannot page from bob's payment either
        const admin = await suite.platform.api.call('GET', `/payments?user_id=${suite.alice.id}&starting_after=${bobs.body.payment.id}`, { token: suite.adminToken });
        assert.equal(admin.status, 400);
      });

      test('limit outside 1..100, or not a plain number, is 400 param limit; an unknown query parameter is 400', async () => {
        for (const limit of ['0', '101', '-1', '01', 'abc', '2.5', '']) {
          const response = await suite.platform.api.call('GET', `/payments?limit=${limit}`, { token: suite.alice.token });
          assert.equal(response.status, 400, limit);
          assert.equal(response.body.error.param, 'limit', limit);
        }
        const unknown = await suite.platform.api.call('GET', '/payments?colour=blue', { token: suite.alice.token });
        assert.equal(unknown.status, 400);
        assert.equal(unknown.body.error.code, 'parameter_unknown');
      });

      test("a user's list holds only their payments; user_id naming another user is 403 forbidden, not their own list as if it were filtered", async () => {
        await pay({ amount: 2, user_id: suite.bob.id }, suite.bob.token);
        for (const query of ['', `?user_id=${suite.alice.id}`]) {
          const response = await suite.platform.api.call('GET', `/payments${query}`, { token: suite.alice.token });
          assert.equal(response.status, 200, query);
          assert.ok(response.body.data.length > 0);
          for (const payment of response.body.data) assert.equal(payment.user_id, suite.alice.id, query);
        }
        for (const other of [suite.bob.id, 999_999_999]) {
          const refused = await suite.platform.api.call('GET', `/payments?user_id=${other}`, { token: suite.alice.token });
          assert.equal(refused.status, 403, JSON.stringify(refused.body));
          assert.equal(refused.body.error.code, 'forbidden');
          assert.equal(refused.body.error.param, 'user_id');
        }
      });

      test('an admin lists one user with the user_id filter, or everybody without it', async () => {
        const filtered = await suite.platform.api.call('GET', `/payments?user_id=${suite.bob.id}&limit=100`, { token: suite.adminToken });
        assert.equal(filtered.status, 200);
        assert.ok(filtered.body.data.length > 0);
        for (const payment of filtered.body.data) assert.equal(payment.user_id, suite.bob.id);
        const [count] = await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from payments where user_id = ${String(suite.bob.id)}`);
        assert.equal(filtered.body.data.length, Number(count!.n));
        const all = await suite.platform.api.call('GET', '/payments?limit=100', { token: suite.adminToken });
        const owners = new Set(all.body.data.map((p: { user_id: number }) => p.user_id));
        assert.ok(owners.has(suite.alice.id) && owners.has(suite.bob.id));
      });
    });

    describe('listing filters and payment metrics', () => {
      test('created[gte] / created[lte] (epoch seconds, inclusive) and status filter the list; a bad filter is 400', async () => {
        const carol = await suite.platform.api.signUp();
        const made = await pay({ amount: 4.2, user_id: carol.id }, carol.token);
        assert.equal(made.status, 200);
        const createdAt: number = made.body.payment.created;
        const list = async (query: string) => suite.platform.api.call('GET', `/payments?${query}`, { token: carol.token });
        const ids = async (query: string) => (await list(query)).body.data.map((p: { id: string }) => p.id);
        assert.deepEqual(await ids(`created[gte]=${createdAt}&created[lte]=${createdAt}`), [made.body.payment.id]);
        assert.deepEqual(await ids(`created[gte]=${createdAt + 1}`), []);
        assert.deepEqual(await ids(`created[lte]=${createdAt - 1}`), []);
        assert.deepEqual(await ids('status=succeeded'), [made.body.payment.id]);
        for (const bad of ['status=pending', 'created[gte]=yesterday', 'created[gt]=1']) assert.equal((await list(bad)).status, 400, bad);
      });

      test('payments_total and payment_amount_minor_total count created payments by currency', async () => {
        const read = async () => {
          const text = await (await fetch(suite.platform.embedded!.services.payments.metricsUrl)).text();
          const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
          return { count: value(/^payments_total\{[^}]*status="succeeded"[^}]*currency="JPY"[^}]*\} (\d+)/m), amount: value(/^payment_amount_minor_total\{[^}]*currency="JPY"[^}]*\} (\d+)/m) };
        };
        const before = await read();
        assert.equal((await pay({ amount: 700, user_id: suite.alice.id, currency: 'JPY' })).status, 200);
        const after = await read();
        assert.equal(after.count - before.count, 1);
        assert.equal(after.amount - before.amount, 700);
      });
    });

    describe('ledger', () => {
      test('every payment has exactly one balanced ledger transfer and one payment.succeeded outbox event, and nothing else exists', async () => {
        const rows = await queryRows<{ id: string; amount_minor: string; transfers: number; transferred: string | null; events: number; event_amount: string | null }>(suite.db, sql`
          select p.id, p.amount_minor::text,
            (select count(*) from ledger_transfers t where t.payment_id = p.id)::int as transfers,
            (select sum(t.amount_minor)::text from ledger_transfers t where t.payment_id = p.id) as transferred,
            (select count(*) from outbox o where o.subject = 'payment.succeeded' and o.payload->>'payment_id' = p.id)::int as events,
            (select max(o.payload->>'amount_minor') from outbox o where o.subject = 'payment.succeeded' and o.payload->>'payment_id' = p.id) as event_amount
          from payments p`);
        assert.ok(rows.length >= 10, `only ${rows.length} payments`);
        for (const row of rows) {
          assert.equal(Number(row.transfers), 1, row.id);
          assert.equal(row.transferred, row.amount_minor, row.id);
          assert.equal(Number(row.events), 1, row.id);
          assert.equal(row.event_amount, row.amount_minor, row.id);
        }
        const [orphans] = await queryRows<{ transfers: number; events: number; subjects: string[] | string }>(suite.db, sql`select
          (select count(*) from ledger_transfers t where not exists (select 1 from payments p where p.id = t.payment_id))::int as transfers,
          (select count(*) from outbox o where not exists (select 1 from payments p where p.id = o.payload->>'payment_id'))::int as events`);
        assert.equal(Number(orphans!.transfers), 0);
        assert.equal(Number(orphans!.events), 0);
      });

      test('the ledger invariants hold after every scenario above', async () => {
        await assertInvariantsOverScenarios(suite.db);
        // and the revenue account holds exactly the sum of the payments, per currency
        const rows = await queryRows<{ currency: string; paid: string; revenue: string | null }>(suite.db, sql`
          select p.currency, sum(p.amount_minor)::text as paid,
            (select credits_posted::text from ledger_accounts a where a.code = 'system:platform_revenue:' || trim(p.currency)) as revenue
          from payments p group by p.currency`);
        assert.ok(rows.length >= 3);
        for (const row of rows) assert.equal(row.revenue, row.paid, row.currency);
      });

      test('20 concurrent payments in a currency used for the first time all succeed and the invariants still hold', async () => {
        const before = await counts();
        const responses = await Promise.all(Array.from({ length: 20 }, (_, i) =>
          pay({ amount: `${i + 1}.01`, user_id: i % 2 === 0 ? suite.alice.id : suite.bob.id, currency: 'EUR' }, i % 2 === 0 ? suite.alice.token : suite.bob.token)));
        for (const response of responses) assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.equal(new Set(responses.map((r) => r.body.payment.id)).size, 20);
        const after = await counts();
        assert.equal(after.payments - before.payments, 20);
        assert.equal(after.transfers - before.transfers, 20);
        // payment.created and payment.succeeded for each
        assert.equal(after.outbox - before.outbox, 40);
        assert.equal(after.accounts - before.accounts, 2);
        assert.deepEqual(await checkLedgerInvariants(suite.db), []);
        const expected = Array.from({ length: 20 }, (_, i) => (i + 1) * 100 + 1).reduce((a, b) => a + b, 0);
        const [revenue] = await queryRows<{ credits: string; debits: string }>(suite.db, sql`
          select (select credits_posted::text from ledger_accounts where code = 'system:platform_revenue:EUR') as credits,
                 (select debits_posted::text from ledger_accounts where code = 'system:processor_clearing:EUR') as debits`);
        assert.equal(revenue!.credits, String(expected));
        assert.equal(revenue!.debits, String(expected));
      });

      test('payment_request_count on the payments metrics port counts payment requests', async () => {
        const before = await paymentRequestCount();
        for (let i = 0; i < 3; i++) assert.equal((await pay({ amount: 1, user_id: suite.alice.id })).status, 200);
        assert.equal(await paymentRequestCount(), before + 3);
      });

      test('a scheduled invariant check counts in ledger_invariant_checks_total, and a tampered balance shows as a violation', async () => {
        const ctx = suite.platform.service('payments').context;
        /** The value of the sample `name{…label…}` (labels include service="payments"). */
        const metric = async (name: string, label = '') => {
          const text = await (await fetch(suite.platform.embedded!.services.payments.metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
          const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
          return Number(line?.split(' ').at(-1) ?? 0);
        };
        const okBefore = await metric('ledger_invariant_checks_total', 'result="ok"');
        assert.deepEqual(await recordInvariantCheck(suite.db, ctx.metrics, ctx.runtime.logger), []);
        assert.equal(await metric('ledger_invariant_checks_total', 'result="ok"'), okBefore + 1);
        assert.equal(await metric('ledger_invariant_violations'), 0);
        // A balance changed behind the ledger's back no longer equals the sum of its entries.
        await suite.db.execute(sql`update ledger_accounts set credits_posted = credits_posted + 1 where code = 'system:platform_revenue:EUR'`);
        try {
          const violations = await recordInvariantCheck(suite.db, ctx.metrics, ctx.runtime.logger);
          assert.ok(violations.some((v) => v.detail.startsWith('system:platform_revenue:EUR')), JSON.stringify(violations));
          assert.ok(await metric('ledger_invariant_violations') >= 1);
          assert.equal(await metric('ledger_invariant_checks_total', 'result="violated"'), 1);
        } finally {
          await suite.db.execute(sql`update ledger_accounts set credits_posted = credits_posted - 1 where code = 'system:platform_revenue:EUR'`);
        }
        assert.deepEqual(await recordInvariantCheck(suite.db, ctx.metrics, ctx.runtime.logger), []);
      });
    });
  });
}
