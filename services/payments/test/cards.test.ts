// Cards: each of Stripe's test cards behaves as Stripe documents it (as card details and as its
// pm_card_… id); card details are checked before anything is stored; what a card shows (brand,
// last 4, expiry, keyed fingerprint); and no card number or CVC is kept anywhere: every text
// column of the payments database, the outbox, every service's log and the metrics are scanned.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { backends, startDistributedTestPlatform, suitePlatform, testDatabaseUrl, testNatsUrl, type Api, type ApiResponse, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '../src/ledger/check-invariants.ts';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';

type User = { id: number; token: string };
type CardInput = { number: string; exp_month: number; exp_year: number; cvc: string };

const thisYear = new Date().getUTCFullYear();
const thisMonth = new Date().getUTCMonth() + 1;
const card = (number: string, extra: Partial<CardInput> = {}): CardInput => ({ number, exp_month: 12, exp_year: thisYear + 2, cvc: '739', ...extra });

const good = '4242424242424242';
const declines = [
  { number: '4000000000000002', pm: 'pm_card_visa_chargeDeclined', code: 'card_declined', declineCode: 'generic_decline' },
  { number: '4000000000009995', pm: 'pm_card_visa_chargeDeclinedInsufficientFunds', code: 'card_declined', declineCode: 'insufficient_funds' },
  { number: '4000000000000069', pm: 'pm_card_chargeDeclinedExpiredCard', code: 'expired_card', declineCode: 'expired_card' },
  { number: '4000000000000127', pm: 'pm_card_chargeDeclinedIncorrectCvc', code: 'incorrect_cvc', declineCode: 'incorrect_cvc' },
  { number: '4000000000000119', pm: 'pm_card_chargeDeclinedProcessingError', code: 'processing_error', declineCode: 'processing_error' },
] as const;
const threeDSecure = '4000002760003184';
/** Stripe's test numbers of other brands. */
const brands = [
  { number: '4000056655665556', brand: 'visa' },
  { number: '5555555555554444', brand: 'mastercard' },
  { number: '2223003122003222', brand: 'mastercard' },
  { number: '378282246310005', brand: 'amex', cvc: '8462' },
  { number: '6011111111111117', brand: 'discover' },
  { number: '3056930009020004', brand: 'diners' },
  { number: '3566002020360505', brand: 'jcb' },
  { number: '6200000000000005', brand: 'unionpay' },
];
const amex = '378282246310005';
const luhnFailing = '4242424242424241';

/** Card details that are refused before anything happens, with Stripe's code and param. */
const invalidCards: { name: string; card: CardInput; code: string; param: string }[] = [
  { name: 'a number failing the Luhn check', card: card(luhnFailing), code: 'incorrect_number', param: 'payment_method[number]' },
  { name: 'a number too short', card: card('42424242424'), code: 'incorrect_number', param: 'payment_method[number]' },
  { name: 'a number with letters', card: card('4242-4242-4242-424x'), code: 'incorrect_number', param: 'payment_method[number]' },
  { name: 'an expiry year in the past', card: card(good, { exp_year: thisYear - 1 }), code: 'invalid_expiry_year', param: 'payment_method[exp_year]' },
  { name: 'an expiry year too far ahead', card: card(good, { exp_year: thisYear + 60 }), code: 'invalid_expiry_year', param: 'payment_method[exp_year]' },
  { name: 'month 13', card: card(good, { exp_month: 13 }), code: 'invalid_expiry_month', param: 'payment_method[exp_month]' },
  { name: 'month 0', card: card(good, { exp_month: 0 }), code: 'invalid_expiry_month', param: 'payment_method[exp_month]' },
  ...(thisMonth > 1 ? [{ name: 'last month of this year', card: card(good, { exp_month: thisMonth - 1, exp_year: thisYear }), code: 'invalid_expiry_month', param: 'payment_method[exp_month]' }] : []),
  { name: 'a 2-digit CVC', card: card(good, { cvc: '73' }), code: 'invalid_cvc', param: 'payment_method[cvc]' },
  { name: 'a 4-digit CVC on a visa', card: card(good, { cvc: '7391' }), code: 'invalid_cvc', param: 'payment_method[cvc]' },
  { name: 'a CVC with letters', card: card(good, { cvc: '7a9' }), code: 'invalid_cvc', param: 'payment_method[cvc]' },
  { name: 'an amex with a 3-digit CVC', card: card(amex, { cvc: '846' }), code: 'invalid_cvc', param: 'payment_method[cvc]' },
];

/** Every card number any request in this file sends. None may be kept, logged or exported. */
const sentNumbers = [good, ...declines.map((d) => d.number), threeDSecure, ...brands.map((b) => b.number), luhnFailing];
/** How those numbers were also written in requests. */
const sentForms = [...sentNumbers, '4242 4242 4242 4242', '4242-4242-4242-4242', '5555 5555 5555 4444'];
/** A CVC in context: `"cvc":"739"`, `cvc=739`, `cvv: 739`… */
const cvcInContext = /\b(?:cvc|cvv|cvc2|cvv2|csc|security_code)\b\W{0,8}\d{3,4}\b/i;

/** The card numbers and CVCs found in `text`. */
function cardDataIn(text: string): string[] {
  const found = sentForms.filter((number) => text.includes(number));
  const cvc = cvcInContext.exec(text);
  if (cvc !== null) found.push(`CVC in context: ${cvc[0]}`);
  return found;
}

type Query = (text: string) => Promise<Record<string, unknown>[]>;
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * Every text, char and json(b) column of every table of the database, as text, plus each whole
 * row as text; each with where it came from.
 */
async function databaseTexts(query: Query): Promise<{ where: string; text: string }[]> {
  const columns = await query(`select c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
      and c.data_type in ('text', 'character', 'character varying', 'json', 'jsonb')
    order by c.table_name, c.ordinal_position`);
  const texts: { where: string; text: string }[] = [];
  const tables = new Set<string>();
  for (const column of columns) {
    const table = String(column.table_name);
    const name = String(column.column_name);
    tables.add(table);
    for (const row of await query(`select ${ident(name)}::text as v from ${ident(table)} where ${ident(name)} is not null`)) texts.push({ where: `${table}.${name}`, text: String(row.v) });
  }
  for (const table of tables) {
    for (const row of await query(`select t::text as v from ${ident(table)} t`)) texts.push({ where: `${table} (row)`, text: String(row.v) });
  }
  const scanned = [...tables].sort();
  for (const expected of ['idempotency_keys', 'inbox', 'ledger_accounts', 'ledger_transfers', 'outbox', 'payers', 'payment_methods', 'payments', 'refunds', 'wallet_top_ups']) {
    assert.ok(scanned.includes(expected), `table ${expected} was scanned (scanned: ${scanned.join(', ')})`);
  }
  return texts;
}

/** The places of `texts` holding a card number or a CVC. */
function leaksIn(texts: readonly { where: string; text: string }[]): string[] {
  return texts.flatMap(({ where, text }) => cardDataIn(text).map((found) => `${where}: ${found}`));
}

/**
 * Card traffic of every kind: each test card as details (with an Idempotency-Key, replayed) and
 * as its pm_card id, declines retried, 3-D Secure completed, a manual capture, a saved method
 * used for a payment and a top-up, a top-up from card details, a wallet payment, refused details
 * on every route that takes a card, a key reused with another card and a body that is not JSON.
 * Returns every response body and the created payments' ids.
 */
async function cardTraffic(api: Api, user: User, canary: string): Promise<{ responses: string[]; paymentIds: string[] }> {
  const responses: string[] = [];
  const paymentIds = new Set<string>();
  const call = async (method: string, path: string, json?: unknown, key?: string): Promise<ApiResponse> => {
    const response = await api.call(method, path, { token: user.token, json, headers: { 'x-request-id': `${canary}-${responses.length}`, ...(key === undefined ? {} : { 'idempotency-key': key }) } });
    responses.push(typeof response.body === 'string' ? response.body : JSON.stringify(response.body));
    const id = response.body?.payment?.id ?? response.body?.error?.payment?.id ?? (response.body?.object === 'payment' ? response.body.id : undefined);
    if (typeof id === 'string') paymentIds.add(id);
    return response;
  };
  const expect = (response: ApiResponse, status: number, what: string) => assert.equal(response.status, status, `${what}: ${JSON.stringify(response.body)}`);
  const cvcs = ['741', '752', '763', '774', '785', '796', '807', '818'];

  const testCards = [good, ...declines.map((d) => d.number), threeDSecure];
  for (const [i, number] of testCards.entries()) {
    const body = { amount: `${i + 1}.25`, user_id: user.id, description: `${canary} card ${i}`, payment_method: card(number, { cvc: cvcs[i] }) };
    const key = randomUUID();
    const first = await call('POST', '/payments', body, key);
    const replay = await call('POST', '/payments', body, key);
    assert.equal(replay.status, first.status, number);
    if (first.status === 402) {
      expect(await call('POST', `/payments/${first.body.error.payment.id}/confirm`, { payment_method: card('4242 4242 4242 4242', { cvc: '829' }) }, randomUUID()), 200, `retry of ${number}`);
    } else if (first.body.payment.status === 'requires_action') {
      expect(await call('POST', `/payments/${first.body.payment.id}/confirm`, {}, randomUUID()), 200, `3-D Secure of ${number}`);
    } else {
      expect(first, 200, number);
    }
  }
  for (const pm of ['pm_card_visa', ...declines.map((d) => d.pm), 'pm_card_authenticationRequired']) {
    const response = await call('POST', '/payments', { amount: '3.10', user_id: user.id, payment_method: pm }, randomUUID());
    assert.ok(response.status === 200 || response.status === 402, pm);
  }
  for (const { number, cvc } of brands) expect(await call('POST', '/payments', { amount: '1.11', user_id: user.id, payment_method: card(number, { cvc: cvc ?? '753' }) }), 200, number);

  // Manual capture with card details, captured in part.
  const authorized = await call('POST', '/payments', { amount: '20.00', user_id: user.id, capture_method: 'manual', payment_method: card('4242-4242-4242-4242', { cvc: '830' }) }, randomUUID());
  expect(authorized, 200, 'authorization');
  expect(await call('POST', `/payments/${authorized.body.payment.id}/capture`, { amount_to_capture: '5.00' }, randomUUID()), 200, 'capture');
  // An unconfirmed payment given card details, confirmed later.
  const unconfirmed = await call('POST', '/payments', { amount: '2.00', user_id: user.id, confirm: false, payment_method: card('5555 5555 5555 4444', { cvc: '831' }) }, randomUUID());
  expect(await call('POST', `/payments/${unconfirmed.body.payment.id}/confirm`, undefined, randomUUID()), 200, 'confirm of unconfirmed');

  // A saved payment method (its key replayed), a payment and a top-up with it.
  const saveKey = randomUUID();
  const saveBody = { card: card(good, { cvc: '832' }) };
  const saved = await call('POST', '/payment_methods', saveBody, saveKey);
  expect(saved, 200, 'saved method');
  expect(await call('POST', '/payment_methods', saveBody, saveKey), 200, 'saved method replay');
  expect(await call('POST', '/payments', { amount: '4.00', user_id: user.id, payment_method: saved.body.id }, randomUUID()), 200, 'payment with saved method');
  expect(await call('POST', '/wallet/top-ups', { amount: '30.00', payment_method: saved.body.id }, randomUUID()), 200, 'top-up with saved method');
  // A top-up from card details (replayed), a declined top-up, then a wallet payment.
  const topUpKey = randomUUID();
  const topUpBody = { amount: '25.00', payment_method: card('4242 4242 4242 4242', { cvc: '833' }) };
  expect(await call('POST', '/wallet/top-ups', topUpBody, topUpKey), 200, 'top-up');
  expect(await call('POST', '/wallet/top-ups', topUpBody, topUpKey), 200, 'top-up replay');
  expect(await call('POST', '/wallet/top-ups', { amount: '1.00', payment_method: card(declines[0].number, { cvc: '834' }) }, randomUUID()), 402, 'declined top-up');
  expect(await call('POST', '/payments', { amount: '10.00', user_id: user.id, payment_method: 'wallet' }, randomUUID()), 200, 'wallet payment');

  // Refused card details, on every route that takes a card, with keys.
  const waiting = await call('POST', '/payments', { amount: '1.00', user_id: user.id, confirm: false }, randomUUID());
  for (const invalid of invalidCards) {
    expect(await call('POST', '/payments', { amount: '1.00', user_id: user.id, payment_method: invalid.card }, randomUUID()), 402, invalid.name);
    expect(await call('POST', '/payment_methods', { card: invalid.card }, randomUUID()), 402, invalid.name);
    expect(await call('POST', '/wallet/top-ups', { amount: '1.00', payment_method: invalid.card }, randomUUID()), 402, invalid.name);
    expect(await call('POST', `/payments/${waiting.body.payment.id}/confirm`, { payment_method: invalid.card }, randomUUID()), 402, invalid.name);
  }
  // A key reused with another card; a body cut short in the middle of a card.
  const reused = randomUUID();
  expect(await call('POST', '/payments', { amount: '1.50', user_id: user.id, payment_method: card(good, { cvc: '835' }) }, reused), 200, 'first use of a key');
  expect(await call('POST', '/payments', { amount: '1.50', user_id: user.id, payment_method: card('5555555555554444', { cvc: '836' }) }, reused), 400, 'key reused with another card');
  expect(await call('POST', '/payments', `{"amount": 1, "user_id": ${user.id}, "payment_method": {"number": "4242424242424242", "exp_month": 12, "cvc": "837"`, randomUUID()), 400, 'truncated body');
  expect(await call('POST', '/payments', { amount: '1.00', user_id: user.id, payment_method: { ...card(good, { cvc: '838' }), name: 'A. Cardholder' } }), 400, 'unknown card field');
  expect(await call('POST', '/payments', { amount: '1.00', user_id: user.id, payment_method: { ...card(good, { cvc: '839' }), exp_month: '12' } }), 400, 'exp_month as a string');
  return { responses, paymentIds: [...paymentIds] };
}

for (const backend of backends()) {
  describe(`cards (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice'] });

    const post = (path: string, json: unknown, token = suite.alice.token) => suite.platform.api.call('POST', path, { token, json });
    const pay = (paymentMethod: unknown, extra: Record<string, unknown> = {}) => post('/payments', { amount: '10.00', user_id: suite.alice.id, payment_method: paymentMethod, ...extra });
    const subjects = async (id: string) => (await queryRows<{ subject: string }>(suite.db, sql`select subject from outbox where payload->>'payment_id' = ${id} order by created_at, subject`)).map((r) => r.subject).sort();
    const transfers = async (id: string) => Number((await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from ledger_transfers where payment_id = ${id}`))[0]!.n);
    const counts = async () => (await queryRows<Record<string, string>>(suite.db, sql`select
      (select count(*) from payments)::text as payments, (select count(*) from payment_methods)::text as payment_methods,
      (select count(*) from outbox)::text as outbox, (select count(*) from ledger_transfers)::text as transfers,
      (select count(*) from idempotency_keys)::text as idempotency_keys, (select count(*) from wallet_top_ups)::text as top_ups,
      (select count(*) from ledger_accounts)::text as accounts`))[0];

    describe("Stripe's test cards", () => {
      test('4242 4242 4242 4242 succeeds, as card details and as pm_card_visa', async () => {
        for (const method of [card(good), 'pm_card_visa']) {
          const response = await pay(method);
          assert.equal(response.status, 200, JSON.stringify(response.body));
          const payment = response.body.payment;
          assert.equal(payment.status, 'succeeded');
          assert.equal(payment.amount_received, 1000);
          assert.equal(payment.last_payment_error, null);
          assert.equal(payment.payment_method.type, 'card');
          assert.equal(payment.payment_method.card.brand, 'visa');
          assert.equal(payment.payment_method.card.last4, '4242');
          assert.deepEqual(await subjects(payment.id), ['payment.created', 'payment.succeeded']);
          assert.equal(await transfers(payment.id), 1);
        }
      });

      for (const decline of declines) {
        test(`${decline.number} (${decline.pm}) is declined: 402 card_error ${decline.code}/${decline.declineCode}, the payment back to requires_payment_method, payment.failed; a retry with a good card succeeds`, async () => {
          for (const [method, retryWith] of [[card(decline.number), card(good, { cvc: '123' })], [decline.pm, 'pm_card_visa']] as const) {
            const what = typeof method === 'string' ? method : method.number;
            const response = await pay(method);
            assert.equal(response.status, 402, `${what}: ${JSON.stringify(response.body)}`);
            const error = response.body.error;
            assert.equal(error.type, 'card_error', what);
            assert.equal(error.code, decline.code, what);
            assert.equal(error.decline_code, decline.declineCode, what);
            assert.equal(typeof error.message, 'string');
            const payment = error.payment;
            assert.equal(payment.object, 'payment');
            assert.equal(payment.status, 'requires_payment_method', what);
            assert.equal(payment.amount_received, 0);
            assert.equal(payment.last_payment_error.type, 'card_error');
            assert.equal(payment.last_payment_error.code, decline.code, what);
            assert.equal(payment.last_payment_error.decline_code, decline.declineCode, what);
            assert.equal(payment.last_payment_error.payment_method.card.last4, decline.number.slice(-4), what);
            assert.deepEqual((await suite.platform.api.call('GET', `/payments/${payment.id}`, { token: suite.alice.token })).body, payment);
            assert.deepEqual(await subjects(payment.id), ['payment.created', 'payment.failed']);
            const [failed] = await queryRows<{ failure_code: string; decline_code: string }>(suite.db, sql`select payload->>'failure_code' as failure_code, payload->>'decline_code' as decline_code
              from outbox where subject = 'payment.failed' and payload->>'payment_id' = ${payment.id}`);
            assert.deepEqual({ ...failed }, { failure_code: decline.code, decline_code: decline.declineCode });
            assert.equal(await transfers(payment.id), 0);

            const retried = await post(`/payments/${payment.id}/confirm`, { payment_method: retryWith });
            assert.equal(retried.status, 200, `${what}: ${JSON.stringify(retried.body)}`);
            assert.equal(retried.body.status, 'succeeded');
            assert.equal(retried.body.amount_received, 1000);
            assert.equal(retried.body.last_payment_error, null);
            assert.equal(retried.body.payment_method.card.last4, '4242');
            assert.deepEqual(await subjects(payment.id), ['payment.created', 'payment.failed', 'payment.succeeded']);
            assert.equal(await transfers(payment.id), 1);
          }
        });
      }

      test('a declined payment keeps no method: confirming it again without one is 400 payment_method_required; retrying the declining card fails again', async () => {
        const declined = await pay(declines[0].pm);
        const id: string = declined.body.error.payment.id;
        assert.equal(declined.body.error.payment.payment_method, null);
        const bare = await post(`/payments/${id}/confirm`, {});
        assert.equal(bare.status, 400);
        assert.equal(bare.body.error.code, 'payment_method_required');
        const again = await post(`/payments/${id}/confirm`, { payment_method: card(declines[1].number) });
        assert.equal(again.status, 402);
        assert.equal(again.body.error.decline_code, 'insufficient_funds');
        assert.equal(again.body.error.payment.id, id);
        assert.deepEqual(await subjects(id), ['payment.created', 'payment.failed', 'payment.failed']);
      });

      test('4000 0027 6000 3184 requires 3-D Secure: requires_action with next_action three_d_secure; confirming completes it', async () => {
        for (const method of [card(threeDSecure), 'pm_card_authenticationRequired']) {
          const response = await pay(method);
          assert.equal(response.status, 200, JSON.stringify(response.body));
          assert.equal(response.body.message, `Payment of $10.00 requires authentication by user ${suite.alice.id}`);
          const payment = response.body.payment;
          assert.equal(payment.status, 'requires_action');
          assert.equal(payment.next_action.type, 'three_d_secure');
          assert.equal(payment.amount_received, 0);
          assert.equal(payment.payment_method.card.last4, '3184');
          assert.equal(await transfers(payment.id), 0);
          assert.deepEqual(await subjects(payment.id), ['payment.created', 'payment.requires_action']);
          // Only the authenticated card may complete it.
          const swapped = await post(`/payments/${payment.id}/confirm`, { payment_method: 'pm_card_visa' });
          assert.equal(swapped.status, 400);
          assert.equal(swapped.body.error.code, 'payment_unexpected_state');
          const confirmed = await post(`/payments/${payment.id}/confirm`, {});
          assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
          assert.equal(confirmed.body.status, 'succeeded');
          assert.equal(confirmed.body.next_action, null);
          assert.equal(confirmed.body.amount_received, 1000);
          assert.equal(confirmed.body.payment_method.card.last4, '3184');
          assert.equal(await transfers(payment.id), 1);
          assert.deepEqual(await subjects(payment.id), ['payment.created', 'payment.requires_action', 'payment.succeeded']);
        }
      });

      test('a top-up with a declined card is 402 with its decline code, and a 3-D Secure card is 402 authentication_required; nothing is stored', async () => {
        const before = await counts();
        for (const decline of declines) {
          const response = await post('/wallet/top-ups', { amount: '5.00', payment_method: card(decline.number) });
          assert.equal(response.status, 402, decline.number);
          assert.equal(response.body.error.code, decline.code);
          assert.equal(response.body.error.decline_code, decline.declineCode);
        }
        const secure = await post('/wallet/top-ups', { amount: '5.00', payment_method: 'pm_card_authenticationRequired' });
        assert.equal(secure.status, 402);
        assert.equal(secure.body.error.code, 'authentication_required');
        assert.deepEqual(await counts(), before);
      });
    });

    describe('card details are checked before anything is stored', () => {
      for (const invalid of invalidCards) {
        test(`${invalid.name} is refused with 402 card_error ${invalid.code} param ${invalid.param} on every route, and nothing is stored`, async () => {
          const waiting = (await post('/payments', { amount: '1.00', user_id: suite.alice.id, confirm: false })).body.payment;
          const before = await counts();
          const attempts: [string, unknown][] = [
            ['/payments', { amount: '1.00', user_id: suite.alice.id, payment_method: invalid.card }],
            ['/payments', { amount: '1.00', user_id: suite.alice.id, payment_method: invalid.card, confirm: false }],
            ['/payments', { amount: '1.00', user_id: suite.alice.id, payment_method: invalid.card, capture_method: 'manual' }],
            ['/payment_methods', { card: invalid.card }],
            ['/wallet/top-ups', { amount: '1.00', payment_method: invalid.card }],
            [`/payments/${waiting.id}/confirm`, { payment_method: invalid.card }],
          ];
          for (const [path, body] of attempts) {
            for (const headers of [{}, { 'idempotency-key': randomUUID() }] as Record<string, string>[]) {
              const response = await suite.platform.api.call('POST', path, { token: suite.alice.token, json: body, headers });
              assert.equal(response.status, 402, `${path}: ${JSON.stringify(response.body)}`);
              assert.equal(response.body.error.type, 'card_error', path);
              assert.equal(response.body.error.code, invalid.code, path);
              assert.equal(response.body.error.param, invalid.param, path);
            }
          }
          assert.deepEqual(await counts(), before);
          assert.equal((await suite.platform.api.call('GET', `/payments/${waiting.id}`, { token: suite.alice.token })).body.status, 'requires_payment_method');
        });
      }

      test('a key used for refused card details is still free: the corrected request runs under it', async () => {
        const key = randomUUID();
        const refused = await suite.platform.api.call('POST', '/payments', { token: suite.alice.token, json: { amount: '1.00', user_id: suite.alice.id, payment_method: card(good, { cvc: '12' }) }, headers: { 'idempotency-key': key } });
        assert.equal(refused.status, 402);
        const corrected = await suite.platform.api.call('POST', '/payments', { token: suite.alice.token, json: { amount: '1.00', user_id: suite.alice.id, payment_method: card(good) }, headers: { 'idempotency-key': key } });
        assert.equal(corrected.status, 200, JSON.stringify(corrected.body));
        assert.equal(corrected.headers.get('idempotent-replayed'), null);
      });

      test('an amex needs a 4-digit CVC; this month and a 2-digit year are valid expiries', async () => {
        const amexPayment = await pay(card(amex, { cvc: '8462' }));
        assert.equal(amexPayment.status, 200, JSON.stringify(amexPayment.body));
        assert.deepEqual({ brand: amexPayment.body.payment.payment_method.card.brand, last4: amexPayment.body.payment.payment_method.card.last4 }, { brand: 'amex', last4: '0005' });
        const thisMonthCard = await pay(card(good, { exp_month: thisMonth, exp_year: thisYear }));
        assert.equal(thisMonthCard.status, 200, JSON.stringify(thisMonthCard.body));
        const shortYear = await pay(card(good, { exp_year: (thisYear + 3) % 100 }));
        assert.equal(shortYear.status, 200, JSON.stringify(shortYear.body));
        assert.equal(shortYear.body.payment.payment_method.card.exp_year, thisYear + 3);
      });
    });

    describe('what a card shows', () => {
      test('brand, last4, expiry and fingerprint are shown and nothing else; the same card gives the same fingerprint, another card another', async () => {
        const saved = await post('/payment_methods', { card: card(good, { exp_month: 7, exp_year: thisYear + 4, cvc: '321' }) });
        assert.equal(saved.status, 200, JSON.stringify(saved.body));
        assert.match(saved.body.id, /^pm_/);
        assert.equal(saved.body.object, 'payment_method');
        assert.equal(saved.body.user_id, suite.alice.id);
        assert.deepEqual(Object.keys(saved.body.card).sort(), ['brand', 'exp_month', 'exp_year', 'fingerprint', 'last4']);
        assert.deepEqual({ ...saved.body.card, fingerprint: undefined }, { brand: 'visa', last4: '4242', exp_month: 7, exp_year: thisYear + 4, fingerprint: undefined });
        const fingerprint: string = saved.body.card.fingerprint;
        assert.match(fingerprint, /^[\w-]{8,}$/);
        assert.deepEqual((await suite.platform.api.call('GET', `/payment_methods/${saved.body.id}`, { token: suite.alice.token })).body, saved.body);

        // The same number, written differently, with another expiry and CVC, or as pm_card_visa: the same fingerprint.
        for (const method of [card('4242 4242 4242 4242', { exp_month: 1, exp_year: thisYear + 9, cvc: '999' }), card('4242-4242-4242-4242'), 'pm_card_visa', saved.body.id]) {
          const payment = await pay(method);
          assert.equal(payment.status, 200, JSON.stringify(payment.body));
          assert.deepEqual(Object.keys(payment.body.payment.payment_method).sort(), ['card', 'id', 'type']);
          assert.deepEqual(Object.keys(payment.body.payment.payment_method.card).sort(), ['brand', 'exp_month', 'exp_year', 'fingerprint', 'last4']);
          assert.equal(payment.body.payment.payment_method.card.fingerprint, fingerprint, JSON.stringify(method));
          assert.equal(payment.body.payment.payment_method.card.last4, '4242');
        }
        const bySaved = await pay(saved.body.id);
        assert.equal(bySaved.body.payment.payment_method.id, saved.body.id);
        assert.deepEqual(bySaved.body.payment.payment_method.card, saved.body.card);

        // Every other card: its own brand, last 4 and fingerprint.
        const fingerprints = new Set([fingerprint]);
        for (const { number, brand, cvc } of brands) {
          const payment = await pay(card(number, { cvc: cvc ?? '123', exp_month: 3, exp_year: thisYear + 1 }));
          assert.equal(payment.status, 200, `${number}: ${JSON.stringify(payment.body)}`);
          const shown = payment.body.payment.payment_method.card;
          assert.deepEqual({ ...shown, fingerprint: undefined }, { brand, last4: number.slice(-4), exp_month: 3, exp_year: thisYear + 1, fingerprint: undefined }, number);
          assert.ok(!fingerprints.has(shown.fingerprint), `${number} has a fingerprint of its own`);
          fingerprints.add(shown.fingerprint);
        }
        const [row] = await queryRows<{ last4: string; brand: string; fingerprint: string }>(suite.db, sql`select last4, brand, fingerprint from payment_methods where id = ${saved.body.id}`);
        assert.deepEqual({ ...row }, { last4: '4242', brand: 'visa', fingerprint });
      });
    });

    describe('card-number scan', () => {
      test('after card traffic of every kind, no card number or CVC is in any text column of the payments database, the outbox, the responses or the metrics', async () => {
        const canary = `scan-canary-${randomUUID()}`;
        const { responses } = await cardTraffic(suite.platform.api, suite.alice, canary);
        const query: Query = async (text) => queryRows<Record<string, unknown>>(suite.db, sql.raw(text));
        const texts = await databaseTexts(query);
        // The scan reads what was written: the canary in the payments' descriptions is found.
        assert.ok(texts.some((t) => t.where === 'payments.description' && t.text.includes(canary)), 'the scan covers payments.description');
        assert.ok(texts.some((t) => t.where.startsWith('payment_methods') && t.text.includes('4444')), 'the scan covers payment_methods');
        assert.deepEqual(leaksIn(texts), []);

        const outbox = await queryRows<{ subject: string; payload: string }>(suite.db, sql`select subject, payload::text as payload from outbox`);
        assert.ok(outbox.length > 40);
        assert.deepEqual(leaksIn(outbox.map((o) => ({ where: `outbox ${o.subject}`, text: o.payload }))), []);
        assert.deepEqual(leaksIn(responses.map((text, i) => ({ where: `response ${i}`, text }))), []);

        const metrics = await (await fetch(suite.platform.embedded!.services.payments.metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
        assert.match(metrics, /^payment_request_count/m);
        assert.deepEqual(cardDataIn(metrics), []);
      });

      test('the ledger invariants hold after all of it', async () => {
        assert.deepEqual(await checkLedgerInvariants(suite.db), []);
      });
    });
  });
}

describeOrSkip('card-number scan, distributed (one process per service, PostgreSQL, NATS JetStream)', testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL (CI sets them)' : false, () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startDistributedTestPlatform();
  });
  after(async () => {
    await platform?.stop();
  });

  test('after card traffic of every kind, no card number or CVC is in the payments database, the outbox, any service log, the responses or the metrics', async () => {
    const alice = await platform.api.signUp();
    const canary = `scan-canary-${randomUUID()}`;
    const { responses, paymentIds } = await cardTraffic(platform.api, alice, canary);
    assert.ok(paymentIds.length > 20);

    const client = new pg.Client({ connectionString: platform.databaseUrls!.payments });
    await client.connect();
    try {
      const query: Query = async (text) => (await client.query(text)).rows;
      const texts = await databaseTexts(query);
      assert.ok(texts.some((t) => t.where === 'payments.description' && t.text.includes(canary)), 'the scan covers payments.description');
      assert.deepEqual(leaksIn(texts), []);
      const outbox = await query('select subject, payload::text as payload from outbox');
      assert.ok(outbox.length > 40);
      assert.deepEqual(leaksIn(outbox.map((o) => ({ where: `outbox ${String(o.subject)}`, text: String(o.payload) }))), []);
    } finally {
      await client.end();
    }
    assert.deepEqual(leaksIn(responses.map((text, i) => ({ where: `response ${i}`, text }))), []);

    for (const service of ['auth', 'users', 'payments', 'notifications', 'gateway'] as const) {
      const log = platform.logs!(service);
      assert.ok(log.length > 0, `${service} logged`);
      assert.deepEqual(leaksIn(log.split('\n').map((line, i) => ({ where: `${service}.log line ${i + 1}`, text: line }))), [], service);
    }
    // The logs are the ones of this traffic: the payments service logged the canary request ids.
    assert.ok(platform.logs!('payments').includes(canary), 'the payments log holds this traffic');

    const listening = platform.logs!('payments').split('\n').flatMap((line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; metrics?: string };
        return entry.msg === 'payments listening' && entry.metrics !== undefined ? [entry.metrics] : [];
      } catch {
        return [];
      }
    });
    assert.equal(listening.length, 1, 'the payments service logged its metrics URL');
    const metrics = await (await fetch(listening[0]!, { signal: AbortSignal.timeout(5_000) })).text();
    assert.match(metrics, /^payment_request_count/m);
    assert.deepEqual(cardDataIn(metrics), []);
  });
});
