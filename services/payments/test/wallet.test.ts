// Wallets and saved payment methods: top-ups from a card (details, a test id, a saved method) and
// never from the wallet itself, balances per currency read from the ledger, paying from the wallet
// with holds for manual capture, and the no-overdraft rule under 200 concurrent payments.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually, suitePlatform, type ApiResponse } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '../src/ledger/check-invariants.ts';
import { assertInvariantsOverScenarios } from './assert-ledger-invariants.ts';

type User = { id: number; token: string };
type Account = { debits_posted: number; credits_posted: number; debits_pending: number; credits_pending: number };
type WalletBalance = { currency: string; available: number; available_decimal: string; available_display: string; held: number };

const nextYear = new Date().getUTCFullYear() + 1;
const card = (number: string, cvc = '123') => ({ number, exp_month: 12, exp_year: nextYear, cvc });

for (const backend of backends()) {
  describe(`wallet and saved payment methods (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice', 'bob'] });

    const topUp = (user: User, body: Record<string, unknown>) => suite.platform.api.call('POST', '/wallet/top-ups', { token: user.token, json: body });
    const pay = (user: User, body: Record<string, unknown>) => suite.platform.api.call('POST', '/payments', { token: user.token, json: { user_id: user.id, ...body } });
    const wallet = async (user: User) => {
      const response = await suite.platform.api.call('GET', '/wallet', { token: user.token });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body as { object: string; user_id: number; balances: WalletBalance[] };
    };
    const balance = async (user: User, currency = 'usd') => {
      const found = (await wallet(user)).balances.find((b) => b.currency === currency);
      return { available: found?.available ?? 0, held: found?.held ?? 0 };
    };
    const account = async (code: string): Promise<Account> => {
      const [row] = await queryRows<Record<keyof Account, string>>(suite.db, sql`
        select debits_posted::text, credits_posted::text, debits_pending::text, credits_pending::text from ledger_accounts where code = ${code}`);
      if (row === undefined) return { debits_posted: 0, credits_posted: 0, debits_pending: 0, credits_pending: 0 };
      return { debits_posted: Number(row.debits_posted), credits_posted: Number(row.credits_posted), debits_pending: Number(row.debits_pending), credits_pending: Number(row.credits_pending) };
    };
    const topUpRows = async (user: User) => queryRows<{ id: string; amount_minor: string; currency: string; payment_method_id: string }>(suite.db, sql`
      select id, amount_minor::text, currency, payment_method_id from wallet_top_ups where user_id = ${String(user.id)} order by created_at`);
    const transfersOf = async (paymentId: string) => queryRows<{ amount_minor: string; flags: string; debit: string; credit: string }>(suite.db, sql`
      select t.amount_minor::text, t.flags, d.code as debit, c.code as credit from ledger_transfers t
      join ledger_accounts d on d.id = t.debit_account_id join ledger_accounts c on c.id = t.credit_account_id where t.payment_id = ${paymentId}`);
    const expectError = (response: ApiResponse, status: number, code: string, what = '') => {
      assert.equal(response.status, status, `${what} ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, code, what);
    };
    /** A new user whose USD wallet holds `amount` (a decimal string). */
    const funded = async (amount: string, currency = 'USD'): Promise<User> => {
      const user = await suite.platform.api.signUp();
      const response = await topUp(user, { amount, currency, payment_method: 'pm_card_visa' });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return user;
    };

    describe('top-ups', () => {
      test('a top-up from card details credits the wallet from processor clearing, keeps the card summary and announces wallet.topped_up', async () => {
        const carol = await suite.platform.api.signUp();
        const clearing = await account('system:processor_clearing:USD');
        const response = await topUp(carol, { amount: '25.50', payment_method: card('4242424242424242') });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        const body = response.body;
        assert.match(body.id, /^wtu_/);
        assert.equal(body.object, 'wallet_top_up');
        assert.equal(body.user_id, carol.id);
        assert.equal(body.amount, 2550);
        assert.equal(body.amount_decimal, '25.50');
        assert.equal(body.currency, 'usd');
        assert.equal(body.status, 'succeeded');
        assert.equal(body.payment_method.type, 'card');
        assert.equal(body.payment_method.card.last4, '4242');
        assert.equal(body.payment_method.card.brand, 'visa');
        assert.ok(!JSON.stringify(body).includes('4242424242424242'));
        assert.deepEqual(await balance(carol), { available: 2550, held: 0 });
        assert.deepEqual(await account(`user:${carol.id}:wallet:USD`), { debits_posted: 0, credits_posted: 2550, debits_pending: 0, credits_pending: 0 });
        assert.equal((await account('system:processor_clearing:USD')).debits_posted - clearing.debits_posted, 2550);
        assert.deepEqual((await topUpRows(carol)).map((r) => [r.id, r.amount_minor]), [[body.id, '2550']]);
        const events = await queryRows<{ amount_minor: string; user_id: number }>(suite.db, sql`
          select payload->>'amount_minor' as amount_minor, (payload->>'user_id')::int as user_id from outbox where subject = 'wallet.topped_up' and payload->>'top_up_id' = ${body.id}`);
        assert.deepEqual(events.map((e) => [e.amount_minor, Number(e.user_id)]), [['2550', carol.id]]);
      });

      test('a top-up from the pm_card_visa test id credits the wallet; top-ups add up', async () => {
        const carol = await suite.platform.api.signUp();
        for (const amount of ['1.00', '2.25']) assert.equal((await topUp(carol, { amount, payment_method: 'pm_card_visa' })).status, 200, amount);
        assert.deepEqual(await balance(carol), { available: 325, held: 0 });
        assert.equal((await topUpRows(carol)).length, 2);
      });

      test('a top-up from a saved payment method uses that method', async () => {
        const carol = await suite.platform.api.signUp();
        const saved = await suite.platform.api.call('POST', '/payment_methods', { token: carol.token, json: { card: card('5555555555554444') } });
        assert.equal(saved.status, 200, JSON.stringify(saved.body));
        const response = await topUp(carol, { amount: 40, payment_method: saved.body.id });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.equal(response.body.payment_method.id, saved.body.id);
        assert.equal(response.body.payment_method.card.last4, '4444');
        assert.equal(response.body.payment_method.card.brand, 'mastercard');
        assert.deepEqual(await balance(carol), { available: 4000, held: 0 });
        assert.deepEqual((await topUpRows(carol)).map((r) => r.payment_method_id), [saved.body.id]);
      });

      test('"wallet" as the payment method of a top-up is 400 payment_method_unusable and nothing is written', async () => {
        const carol = await funded('5.00');
        const response = await topUp(carol, { amount: 1, payment_method: 'wallet' });
        expectError(response, 400, 'payment_method_unusable');
        assert.equal(response.body.error.param, 'payment_method');
        assert.deepEqual(await balance(carol), { available: 500, held: 0 });
        assert.equal((await topUpRows(carol)).length, 1);
      });

      test('a declined card top-up is 402 card_error: the balance is unchanged and no top-up is recorded', async () => {
        const carol = await funded('3.00');
        const clearing = await account('system:processor_clearing:USD');
        const cases: [unknown, string, string][] = [
          [card('4000000000000002'), 'card_declined', 'generic_decline'],
          ['pm_card_visa_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
          [card('4000000000000069'), 'expired_card', 'expired_card'],
          ['pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error'],
        ];
        for (const [method, code, declineCode] of cases) {
          const response = await topUp(carol, { amount: '50.00', payment_method: method });
          expectError(response, 402, code, JSON.stringify(method));
          assert.equal(response.body.error.type, 'card_error');
          assert.equal(response.body.error.decline_code, declineCode);
        }
        assert.deepEqual(await balance(carol), { available: 300, held: 0 });
        assert.equal((await topUpRows(carol)).length, 1);
        assert.deepEqual(await account('system:processor_clearing:USD'), clearing);
        const [events] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from outbox where subject = 'wallet.topped_up' and (payload->>'user_id')::bigint = ${String(carol.id)}`);
        assert.equal(events!.n, '1');
      });

      test('a card that needs 3-D Secure cannot top up: 402 authentication_required, nothing recorded', async () => {
        const carol = await suite.platform.api.signUp();
        for (const method of [card('4000002760003184'), 'pm_card_authenticationRequired']) {
          const response = await topUp(carol, { amount: 10, payment_method: method });
          expectError(response, 402, 'authentication_required', JSON.stringify(method));
          assert.equal(response.body.error.type, 'card_error');
        }
        assert.deepEqual((await wallet(carol)).balances, []);
        assert.equal((await topUpRows(carol)).length, 0);
      });

      test('invalid card details or amount, or a top-up for another user, are refused and write nothing', async () => {
        const carol = await suite.platform.api.signUp();
        expectError(await topUp(carol, { amount: 10, payment_method: card('4242424242424241') }), 402, 'incorrect_number');
        expectError(await topUp(carol, { amount: 10, payment_method: card('4242424242424242', '12') }), 402, 'invalid_cvc');
        for (const amount of ['0', '-1', '1.001']) {
          const response = await topUp(carol, { amount, payment_method: 'pm_card_visa' });
          assert.equal(response.status, 400, amount);
          assert.equal(response.body.error.param, 'amount', amount);
        }
        assert.equal((await topUp(carol, { amount: 1, payment_method: 'pm_card_visa', currency: 'XYZ' })).status, 400);
        const forOther = await topUp(carol, { amount: 1, payment_method: 'pm_card_visa', user_id: suite.bob.id });
        assert.equal(forOther.status, 403);
        assert.equal((await topUpRows(carol)).length + (await topUpRows(suite.bob)).length, 0);
        // an admin may top up someone else's wallet
        const byAdmin = await suite.platform.api.call('POST', '/wallet/top-ups', { token: suite.adminToken, json: { amount: 2, payment_method: 'pm_card_visa', user_id: carol.id } });
        assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
        assert.deepEqual(await balance(carol), { available: 200, held: 0 });
      });
    });

    describe('balances', () => {
      test('GET /wallet shows the available balance per currency: USD and JPY are kept apart', async () => {
        const carol = await suite.platform.api.signUp();
        assert.deepEqual(await wallet(carol), { object: 'wallet', user_id: carol.id, balances: [] });
        assert.equal((await topUp(carol, { amount: '12.34', payment_method: 'pm_card_visa' })).status, 200);
        assert.equal((await topUp(carol, { amount: 500, currency: 'JPY', payment_method: 'pm_card_visa' })).status, 200);
        assert.equal((await topUp(carol, { amount: '0.66', currency: 'usd', payment_method: 'pm_card_visa' })).status, 200);
        const shown = await wallet(carol);
        const byCurrency = Object.fromEntries(shown.balances.map((b) => [b.currency, b]));
        assert.deepEqual(Object.keys(byCurrency).sort(), ['jpy', 'usd']);
        assert.deepEqual(byCurrency.usd, { currency: 'usd', available: 1300, available_decimal: '13.00', available_display: '$13.00', held: 0 });
        assert.deepEqual(byCurrency.jpy, { currency: 'jpy', available: 500, available_decimal: '500', available_display: '¥500', held: 0 });
        // spending yen leaves dollars alone
        assert.equal((await pay(carol, { amount: 200, currency: 'JPY', payment_method: 'wallet' })).status, 200);
        assert.deepEqual(await balance(carol, 'jpy'), { available: 300, held: 0 });
        assert.deepEqual(await balance(carol, 'usd'), { available: 1300, held: 0 });
        // and dollars cannot pay for yen
        expectError(await pay(carol, { amount: 301, currency: 'JPY', payment_method: 'wallet' }), 402, 'balance_insufficient');
      });

      test('GET /wallet/:user_id answers the user themself and an admin; another user gets 404', async () => {
        const carol = await funded('4.00');
        const own = await suite.platform.api.call('GET', `/wallet/${carol.id}`, { token: carol.token });
        assert.equal(own.status, 200);
        assert.deepEqual(own.body, await wallet(carol));
        const admin = await suite.platform.api.call('GET', `/wallet/${carol.id}`, { token: suite.adminToken });
        assert.equal(admin.status, 200);
        assert.deepEqual(admin.body, own.body);
        const foreign = await suite.platform.api.call('GET', `/wallet/${carol.id}`, { token: suite.bob.token });
        assert.equal(foreign.status, 404);
        assert.equal(foreign.body.error.code, 'user_not_found');
        // as absent as a user who does not exist
        assert.deepEqual((await suite.platform.api.call('GET', '/wallet/987654321', { token: suite.bob.token })).body, foreign.body);
        assert.equal((await suite.platform.api.call('GET', '/wallet/abc', { token: carol.token })).status, 400);
      });

      test('GET /wallet/:user_id of a user who does not exist is 404 user_not_found for an admin; a known user with no money yet, or a deleted one, has a wallet', async () => {
        const unknown = await suite.platform.api.call('GET', '/wallet/987654321', { token: suite.adminToken });
        assert.deepEqual([unknown.status, unknown.body.error.code, unknown.body.error.param], [404, 'user_not_found', 'user_id']);
        const dave = await suite.platform.api.signUp();
        const empty = await suite.platform.api.call('GET', `/wallet/${dave.id}`, { token: suite.adminToken });
        assert.deepEqual([empty.status, empty.body], [200, { object: 'wallet', user_id: dave.id, balances: [] }]);
        // A deleted user who never had money here has an empty wallet, not a 404 (payments knows them).
        const gone = await suite.platform.api.signUp();
        assert.equal((await suite.platform.api.call('DELETE', `/users/${gone.id}`, { token: suite.adminToken })).status, 204);
        await eventually(async () => ((await queryRows<{ status: string }>(suite.db, sql`select status from payers where user_id = ${String(gone.id)}`))[0]?.status === 'deleted' ? true : undefined));
        const goneWallet = await suite.platform.api.call('GET', `/wallet/${gone.id}`, { token: suite.adminToken });
        assert.deepEqual([goneWallet.status, goneWallet.body], [200, { object: 'wallet', user_id: gone.id, balances: [] }]);
        // A deleted user's money stays in the ledger, and the admin still sees it.
        const erin = await funded('3.00');
        const before = await suite.platform.api.call('GET', `/wallet/${erin.id}`, { token: suite.adminToken });
        assert.equal((await suite.platform.api.call('DELETE', `/users/${erin.id}`, { token: suite.adminToken })).status, 204);
        const after = await suite.platform.api.call('GET', `/wallet/${erin.id}`, { token: suite.adminToken });
        assert.deepEqual([after.status, after.body], [200, before.body]);
      });
    });

    describe('paying from the wallet', () => {
      test('a wallet payment moves the amount from the wallet to platform revenue, and nothing through processor clearing', async () => {
        const carol = await funded('10.00');
        const revenue = await account('system:platform_revenue:USD');
        const clearing = await account('system:processor_clearing:USD');
        const response = await pay(carol, { amount: '3.50', payment_method: 'wallet' });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.equal(response.body.payment.status, 'succeeded');
        assert.deepEqual(response.body.payment.payment_method, { type: 'wallet' });
        assert.equal(response.body.payment.amount_received, 350);
        assert.deepEqual(await balance(carol), { available: 650, held: 0 });
        assert.equal((await account('system:platform_revenue:USD')).credits_posted - revenue.credits_posted, 350);
        assert.deepEqual(await account('system:processor_clearing:USD'), clearing);
        assert.deepEqual(await transfersOf(response.body.payment.id), [{ amount_minor: '350', flags: 'single', debit: `user:${carol.id}:wallet:USD`, credit: 'system:platform_revenue:USD' }]);
      });

      test('a wallet payment above the balance is 402 balance_insufficient and moves nothing', async () => {
        const carol = await funded('5.00');
        const revenue = await account('system:platform_revenue:USD');
        const response = await pay(carol, { amount: '5.01', payment_method: 'wallet' });
        expectError(response, 402, 'balance_insufficient');
        assert.equal(response.body.error.type, 'invalid_request_error');
        const payment = response.body.error.payment;
        assert.equal(payment.status, 'requires_payment_method');
        assert.equal(payment.amount_received, 0);
        assert.equal(payment.last_payment_error.code, 'balance_insufficient');
        assert.deepEqual(await transfersOf(payment.id), []);
        assert.deepEqual(await balance(carol), { available: 500, held: 0 });
        assert.deepEqual(await account(`user:${carol.id}:wallet:USD`), { debits_posted: 0, credits_posted: 500, debits_pending: 0, credits_pending: 0 });
        assert.deepEqual(await account('system:platform_revenue:USD'), revenue);
        // a user with no wallet at all is refused the same way
        const empty = await suite.platform.api.signUp();
        expectError(await pay(empty, { amount: 1, payment_method: 'wallet' }), 402, 'balance_insufficient');
        // exactly the balance is fine
        assert.equal((await pay(carol, { amount: '5.00', payment_method: 'wallet' })).status, 200);
        assert.deepEqual(await balance(carol), { available: 0, held: 0 });
      });

      test('a manual-capture wallet payment holds the amount; capturing part of it posts that and releases the rest', async () => {
        const carol = await funded('10.00');
        const created = await pay(carol, { amount: '8.00', payment_method: 'wallet', capture_method: 'manual' });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        assert.equal(created.body.payment.status, 'requires_capture');
        assert.equal(created.body.payment.amount_capturable, 800);
        const id: string = created.body.payment.id;
        assert.deepEqual(await balance(carol), { available: 200, held: 800 });
        // the held money cannot be spent
        expectError(await pay(carol, { amount: '2.01', payment_method: 'wallet' }), 402, 'balance_insufficient');
        const captured = await suite.platform.api.call('POST', `/payments/${id}/capture`, { token: carol.token, json: { amount_to_capture: '5.00' } });
        assert.equal(captured.status, 200, JSON.stringify(captured.body));
        assert.equal(captured.body.status, 'succeeded');
        assert.equal(captured.body.amount_received, 500);
        assert.equal(captured.body.amount_capturable, 0);
        assert.deepEqual(await balance(carol), { available: 500, held: 0 });
        assert.deepEqual(await account(`user:${carol.id}:wallet:USD`), { debits_posted: 500, credits_posted: 1000, debits_pending: 0, credits_pending: 0 });
        const transfers = await transfersOf(id);
        assert.deepEqual(transfers.map((t) => [t.flags, t.amount_minor]).sort(), [['pending', '800'], ['post_pending', '500']]);
      });

      test('canceling a manual-capture wallet payment releases the whole hold', async () => {
        const carol = await funded('10.00');
        const created = await pay(carol, { amount: '6.00', payment_method: 'wallet', capture_method: 'manual' });
        assert.equal(created.status, 200);
        assert.deepEqual(await balance(carol), { available: 400, held: 600 });
        const canceled = await suite.platform.api.call('POST', `/payments/${created.body.payment.id}/cancel`, { token: carol.token, json: { cancellation_reason: 'requested_by_customer' } });
        assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
        assert.equal(canceled.body.status, 'canceled');
        assert.deepEqual(await balance(carol), { available: 1000, held: 0 });
        assert.deepEqual(await account(`user:${carol.id}:wallet:USD`), { debits_posted: 0, credits_posted: 1000, debits_pending: 0, credits_pending: 0 });
        assert.deepEqual((await transfersOf(created.body.payment.id)).map((t) => [t.flags, t.amount_minor]).sort(), [['pending', '600'], ['void_pending', '600']]);
        // the released money can be spent again
        assert.equal((await pay(carol, { amount: '10.00', payment_method: 'wallet' })).status, 200);
      });

      test('200 concurrent wallet payments of 0.10 against a balance of 10.00: exactly 100 succeed, 100 are 402 balance_insufficient, the balance ends at 0', async () => {
        const dave = await funded('10.00');
        assert.deepEqual(await balance(dave), { available: 1000, held: 0 });
        const revenue = await account('system:platform_revenue:USD');
        const responses = await Promise.all(Array.from({ length: 200 }, () => pay(dave, { amount: '0.10', payment_method: 'wallet' })));
        const statuses = new Map<number, number>();
        for (const r of responses) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.deepEqual([...statuses.entries()].sort(), [[200, 100], [402, 100]], JSON.stringify(responses.find((r) => r.status !== 200 && r.status !== 402)?.body));
        for (const r of responses) {
          if (r.status === 200) assert.equal(r.body.payment.status, 'succeeded');
          else expectError(r, 402, 'balance_insufficient');
        }
        assert.deepEqual(await balance(dave), { available: 0, held: 0 });
        // the wallet never went below zero: exactly what came in went out, in 100 transfers of 10
        assert.deepEqual(await account(`user:${dave.id}:wallet:USD`), { debits_posted: 1000, credits_posted: 1000, debits_pending: 0, credits_pending: 0 });
        const [out] = await queryRows<{ n: string; total: string }>(suite.db, sql`
          select count(*)::text as n, sum(t.amount_minor)::text as total from ledger_transfers t join ledger_accounts a on a.id = t.debit_account_id
          where a.code = ${`user:${dave.id}:wallet:USD`}`);
        assert.deepEqual(out, { n: '100', total: '1000' });
        assert.equal((await account('system:platform_revenue:USD')).credits_posted - revenue.credits_posted, 1000);
        const [payments] = await queryRows<{ succeeded: string; failed: string }>(suite.db, sql`
          select count(*) filter (where status = 'succeeded' and amount_received = 10)::text as succeeded,
            count(*) filter (where status = 'requires_payment_method' and amount_received = 0)::text as failed
          from payments where user_id = ${String(dave.id)}`);
        assert.deepEqual(payments, { succeeded: '100', failed: '100' });
        assert.deepEqual(await checkLedgerInvariants(suite.db), []);
      });
    });

    describe('saved payment methods', () => {
      test('POST /payment_methods saves a card (never its number) that GET /payment_methods and GET /payment_methods/:id show', async () => {
        const carol = await suite.platform.api.signUp();
        const saved = await suite.platform.api.call('POST', '/payment_methods', { token: carol.token, json: { card: card('4242 4242 4242 4242') } });
        assert.equal(saved.status, 200, JSON.stringify(saved.body));
        assert.match(saved.body.id, /^pm_/);
        assert.equal(saved.body.object, 'payment_method');
        assert.equal(saved.body.type, 'card');
        assert.equal(saved.body.user_id, carol.id);
        assert.deepEqual(Object.keys(saved.body.card).sort(), ['brand', 'exp_month', 'exp_year', 'fingerprint', 'last4']);
        assert.equal(saved.body.card.last4, '4242');
        assert.equal(saved.body.card.exp_year, nextYear);
        const second = await suite.platform.api.call('POST', '/payment_methods', { token: carol.token, json: { type: 'card', card: card('5555555555554444') } });
        assert.equal(second.status, 200);
        const list = await suite.platform.api.call('GET', '/payment_methods', { token: carol.token });
        assert.equal(list.status, 200);
        assert.deepEqual(list.body.data.map((m: { id: string }) => m.id).sort(), [saved.body.id, second.body.id].sort());
        const one = await suite.platform.api.call('GET', `/payment_methods/${saved.body.id}`, { token: carol.token });
        assert.equal(one.status, 200);
        assert.deepEqual(one.body, saved.body);
        const [row] = await queryRows<Record<string, unknown>>(suite.db, sql`select * from payment_methods where id = ${saved.body.id}`);
        assert.ok(!JSON.stringify(row).includes('4242424242424242'));
        // an admin sees it too; a payment with it succeeds
        assert.equal((await suite.platform.api.call('GET', `/payment_methods/${saved.body.id}`, { token: suite.adminToken })).status, 200);
        const paid = await pay(carol, { amount: 3, payment_method: saved.body.id });
        assert.equal(paid.status, 200);
        assert.equal(paid.body.payment.payment_method.id, saved.body.id);
        // card payments made with one-off details are not saved methods
        assert.equal((await pay(carol, { amount: 3, payment_method: card('4242424242424242') })).status, 200);
        assert.equal((await suite.platform.api.call('GET', '/payment_methods', { token: carol.token })).body.data.length, 2);
        // user_id naming another user is refused, not answered with the caller's own cards; their own id is their list
        const others = await suite.platform.api.call('GET', `/payment_methods?user_id=${suite.alice.id}`, { token: carol.token });
        assert.deepEqual([others.status, others.body.error?.code], [403, 'forbidden']);
        assert.equal((await suite.platform.api.call('GET', `/payment_methods?user_id=${carol.id}`, { token: carol.token })).body.data.length, 2);
        // an admin names whom they mean
        assert.equal((await suite.platform.api.call('GET', `/payment_methods?user_id=${carol.id}`, { token: suite.adminToken })).body.data.length, 2);
      });

      test('GET /payment_methods pages newest first by limit and starting_after; a cursor outside the caller\'s list or a bad limit is 400', async () => {
        const dora = await suite.platform.api.signUp();
        const other = await suite.platform.api.signUp();
        const ids: string[] = [];
        for (const number of ['4242424242424242', '5555555555554444', '4242424242424242', '5555555555554444', '4242424242424242']) {
          const saved = await suite.platform.api.call('POST', '/payment_methods', { token: dora.token, json: { card: card(number) } });
          assert.equal(saved.status, 200, JSON.stringify(saved.body));
          ids.push(saved.body.id);
        }
        const list = (query: string, token = dora.token) => suite.platform.api.call('GET', `/payment_methods${query}`, { token });
        const all = await list('');
        assert.equal(all.status, 200);
        assert.equal(all.body.has_more, false);
        const newestFirst = all.body.data.map((m: { id: string }) => m.id);
        assert.deepEqual([...newestFirst].sort(), [...ids].sort());
        // Pages of two, following the cursor, give the same list in the same order, once each.
        const paged: string[] = [];
        let cursor = '';
        for (let page = 0; page < 5; page++) {
          const answer = await list(`?limit=2${cursor === '' ? '' : `&starting_after=${cursor}`}`);
          assert.equal(answer.status, 200, JSON.stringify(answer.body));
          paged.push(...answer.body.data.map((m: { id: string }) => m.id));
          if (!answer.body.has_more) break;
          cursor = paged.at(-1)!;
        }
        assert.deepEqual(paged, newestFirst);
        // A card deleted since the previous page still marks the place.
        assert.equal((await suite.platform.api.call('DELETE', `/payment_methods/${newestFirst[1]}`, { token: dora.token })).status, 200);
        assert.deepEqual((await list(`?starting_after=${newestFirst[1]}`)).body.data.map((m: { id: string }) => m.id), newestFirst.slice(2));
        // Another user's card, an unknown id, or a bad limit.
        const theirs = await suite.platform.api.call('POST', '/payment_methods', { token: other.token, json: { card: card('4242424242424242') } });
        expectError(await list(`?starting_after=${theirs.body.id}`), 400, 'parameter_invalid');
        expectError(await list('?starting_after=pm_unknown'), 400, 'parameter_invalid');
        for (const limit of ['0', '101', '-1', 'ten', '1e1']) assert.equal((await list(`?limit=${limit}`)).status, 400, limit);
      });

      test('invalid card details are refused with 402 and nothing is saved', async () => {
        const carol = await suite.platform.api.signUp();
        for (const [details, code] of [[card('4242424242424241'), 'incorrect_number'], [{ ...card('4242424242424242'), exp_month: 13 }, 'invalid_expiry_month'], [card('4242424242424242', '1234'), 'invalid_cvc']] as const) {
          expectError(await suite.platform.api.call('POST', '/payment_methods', { token: carol.token, json: { card: details } }), 402, code);
        }
        const [count] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payment_methods where user_id = ${String(carol.id)}`);
        assert.equal(count!.n, '0');
      });

      test("another user's payment method is 404 on GET, DELETE, and as the method of a payment, a confirm or a top-up", async () => {
        const carol = await suite.platform.api.signUp();
        const saved = await suite.platform.api.call('POST', '/payment_methods', { token: carol.token, json: { card: card('4242424242424242') } });
        assert.equal(saved.status, 200);
        const id: string = saved.body.id;
        const notFound = (response: ApiResponse, what: string) => expectError(response, 404, 'payment_method_not_found', what);
        notFound(await suite.platform.api.call('GET', `/payment_methods/${id}`, { token: suite.bob.token }), 'GET');
        notFound(await suite.platform.api.call('DELETE', `/payment_methods/${id}`, { token: suite.bob.token }), 'DELETE');
        const paymentsBefore = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payments where user_id = ${String(suite.bob.id)}`);
        notFound(await pay(suite.bob, { amount: 1, payment_method: id }), 'payment');
        notFound(await topUp(suite.bob, { amount: 1, payment_method: id }), 'top-up');
        const draft = await pay(suite.bob, { amount: 1, confirm: false });
        assert.equal(draft.body.payment.status, 'requires_payment_method');
        notFound(await suite.platform.api.call('POST', `/payments/${draft.body.payment.id}/confirm`, { token: suite.bob.token, json: { payment_method: id } }), 'confirm');
        assert.equal((await suite.platform.api.call('GET', `/payments/${draft.body.payment.id}`, { token: suite.bob.token })).body.status, 'requires_payment_method');
        const afterRows = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payments where user_id = ${String(suite.bob.id)}`);
        assert.equal(Number(afterRows[0]!.n) - Number(paymentsBefore[0]!.n), 1);
        // bob's list does not show it, and it still works for carol
        assert.ok(!(await suite.platform.api.call('GET', '/payment_methods', { token: suite.bob.token })).body.data.some((m: { id: string }) => m.id === id));
        assert.equal((await suite.platform.api.call('GET', `/payment_methods/${id}`, { token: carol.token })).status, 200);
        assert.equal((await pay(carol, { amount: 1, payment_method: id })).status, 200);
      });

      test('a deleted payment method is gone from the list and can no longer be used', async () => {
        const carol = await suite.platform.api.signUp();
        const saved = await suite.platform.api.call('POST', '/payment_methods', { token: carol.token, json: { card: card('4242424242424242') } });
        const id: string = saved.body.id;
        assert.equal((await pay(carol, { amount: 1, payment_method: id })).status, 200);
        const deleted = await suite.platform.api.call('DELETE', `/payment_methods/${id}`, { token: carol.token });
        assert.equal(deleted.status, 200);
        assert.deepEqual(deleted.body, { id, object: 'payment_method', deleted: true });
        const notFound = (response: ApiResponse, what: string) => expectError(response, 404, 'payment_method_not_found', what);
        notFound(await suite.platform.api.call('GET', `/payment_methods/${id}`, { token: carol.token }), 'GET');
        notFound(await suite.platform.api.call('DELETE', `/payment_methods/${id}`, { token: carol.token }), 'DELETE again');
        assert.deepEqual((await suite.platform.api.call('GET', '/payment_methods', { token: carol.token })).body.data, []);
        notFound(await pay(carol, { amount: 1, payment_method: id }), 'payment');
        notFound(await topUp(carol, { amount: 1, payment_method: id }), 'top-up');
        const draft = await pay(carol, { amount: 1, confirm: false });
        notFound(await suite.platform.api.call('POST', `/payments/${draft.body.payment.id}/confirm`, { token: carol.token, json: { payment_method: id } }), 'confirm');
        assert.deepEqual((await wallet(carol)).balances, []);
        // the payment made before the deletion keeps showing its card
        const [old] = await queryRows<{ payment_method: { id: string } }>(suite.db, sql`select payment_method from payments where payment_method_id = ${id}`);
        assert.equal(old!.payment_method.id, id);
      });

      test('a payment created with a saved method that is deleted before confirmation cannot be charged with it', async () => {
        const carol = await suite.platform.api.signUp();
        const saved = await suite.platform.api.call('POST', '/payment_methods', { token: carol.token, json: { card: card('4242424242424242') } });
        const id: string = saved.body.id;
        const draft = await pay(carol, { amount: '4.00', payment_method: id, confirm: false });
        assert.equal(draft.status, 200);
        assert.equal(draft.body.payment.status, 'requires_confirmation');
        const paymentId: string = draft.body.payment.id;
        assert.equal((await suite.platform.api.call('DELETE', `/payment_methods/${id}`, { token: carol.token })).status, 200);
        const confirmed = await suite.platform.api.call('POST', `/payments/${paymentId}/confirm`, { token: carol.token, json: {} });
        assert.equal(confirmed.status, 400, `confirming with the deleted method answered ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
        assert.equal(confirmed.body.error.code, 'payment_method_detached');
        const payment = (await suite.platform.api.call('GET', `/payments/${paymentId}`, { token: carol.token })).body;
        assert.equal(payment.amount_received, 0);
        assert.notEqual(payment.status, 'succeeded');
        assert.deepEqual(await transfersOf(paymentId), []);
        // another method still pays it
        const withOther = await suite.platform.api.call('POST', `/payments/${paymentId}/confirm`, { token: carol.token, json: { payment_method: 'pm_card_visa' } });
        assert.equal(withOther.status, 200, JSON.stringify(withOther.body));
        assert.equal(withOther.body.status, 'succeeded');
      });
    });

    test('the ledger invariants hold after every scenario above, and no wallet is below zero', async () => {
      await assertInvariantsOverScenarios(suite.db);
      const [negative] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from ledger_accounts where no_overdraft and credits_posted - debits_posted - debits_pending < 0`);
      assert.equal(negative!.n, '0');
    });
  });
}
