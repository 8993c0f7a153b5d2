// Refunds: full by default, several partial ones up to what was received and never more, only for
// succeeded payments and only by admins and services, back the way the money came (the card
// through processor clearing, or the wallet), with their events, and safe under concurrency.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, suitePlatform, type ApiResponse } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import type { Caller } from '@paymesh/platform/auth/caller';
import { checkLedgerInvariants } from '../src/ledger/check-invariants.ts';
import { assertInvariantsOverScenarios } from './assert-ledger-invariants.ts';
import type { PaymentsContext } from '../src/payments-context.ts';
import { reserveRefund, resumePendingRefunds } from '../src/refunds/create-refund.ts';

type User = { id: number; token: string };
type Account = { debits_posted: number; credits_posted: number; debits_pending: number; credits_pending: number };

for (const backend of backends()) {
  describe(`refunds (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice', 'bob'] });

    const pay = (body: Record<string, unknown>, user: User = suite.alice) => suite.platform.api.call('POST', '/payments', { token: user.token, json: { user_id: user.id, ...body } });
    /** A succeeded card payment of `amount` (a decimal string), its id. */
    const paid = async (amount: string, user: User = suite.alice, extra: Record<string, unknown> = {}): Promise<string> => {
      const response = await pay({ amount, ...extra }, user);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body.payment.id;
    };
    const refund = (paymentId: string, body: unknown = {}, token = suite.adminToken) => suite.platform.api.call('POST', `/payments/${paymentId}/refunds`, { token, json: body });
    const getPayment = async (id: string) => {
      const response = await suite.platform.api.call('GET', `/payments/${id}`, { token: suite.adminToken });
      assert.equal(response.status, 200);
      return response.body;
    };
    const refundRows = async (paymentId: string) => queryRows<{ id: string; amount_minor: string; status: string }>(suite.db, sql`
      select id, amount_minor::text, status from refunds where payment_id = ${paymentId} order by seq`);
    const refundTransfers = async (paymentId: string) => queryRows<{ amount_minor: string; debit: string; credit: string; flags: string; reference: string }>(suite.db, sql`
      select t.amount_minor::text, d.code as debit, c.code as credit, t.flags, t.reference from ledger_transfers t
      join ledger_accounts d on d.id = t.debit_account_id join ledger_accounts c on c.id = t.credit_account_id
      where t.payment_id = ${paymentId} and t.kind = 'refund' order by t.created_at, t.amount_minor`);
    const account = async (code: string): Promise<Account> => {
      const [row] = await queryRows<Record<keyof Account, string>>(suite.db, sql`
        select debits_posted::text, credits_posted::text, debits_pending::text, credits_pending::text from ledger_accounts where code = ${code}`);
      if (row === undefined) return { debits_posted: 0, credits_posted: 0, debits_pending: 0, credits_pending: 0 };
      return { debits_posted: Number(row.debits_posted), credits_posted: Number(row.credits_posted), debits_pending: Number(row.debits_pending), credits_pending: Number(row.credits_pending) };
    };
    const expectError = (response: ApiResponse, status: number, code: string, what = '') => {
      assert.equal(response.status, status, `${what} ${JSON.stringify(response.body)}`);
      assert.equal(response.body.error.code, code, what);
    };
    const walletAvailable = async (user: User, currency = 'usd') => {
      const response = await suite.platform.api.call('GET', '/wallet', { token: user.token });
      assert.equal(response.status, 200);
      return (response.body.balances as { currency: string; available: number }[]).find((b) => b.currency === currency)?.available ?? 0;
    };

    test('a refund without an amount returns everything received', async () => {
      const id = await paid('12.34');
      const response = await refund(id);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.object, 'refund');
      assert.match(response.body.id, /^re_/);
      assert.equal(response.body.payment_id, id);
      assert.equal(response.body.amount, 1234);
      assert.equal(response.body.amount_decimal, '12.34');
      assert.equal(response.body.currency, 'usd');
      assert.equal(response.body.status, 'succeeded');
      const payment = await getPayment(id);
      assert.equal(payment.amount_refunded, 1234);
      assert.equal(payment.amount_received, 1234);
      assert.equal(payment.status, 'succeeded');
      assert.deepEqual((await refundRows(id)).map((r) => r.amount_minor), ['1234']);
    });

    test('partial refunds may add up to the amount received; one more is 400 charge_already_refunded', async () => {
      const id = await paid('10.00');
      let refunded = 0;
      for (const [amount, minor] of [['3.00', 300], ['2.5', 250], ['4.50', 450]] as const) {
        const response = await refund(id, { amount });
        assert.equal(response.status, 200, `${amount} ${JSON.stringify(response.body)}`);
        assert.equal(response.body.amount, minor);
        refunded += minor;
        assert.equal((await getPayment(id)).amount_refunded, refunded);
      }
      assert.equal(refunded, 1000);
      expectError(await refund(id), 400, 'charge_already_refunded', 'full refund after partial ones');
      expectError(await refund(id, { amount: '0.01' }), 400, 'charge_already_refunded', 'one cent more');
      assert.equal((await refundRows(id)).length, 3);
      assert.equal((await getPayment(id)).amount_refunded, 1000);
      assert.equal((await refundTransfers(id)).length, 6, 'each refund is reserved, then posted');
    });

    test('a refund larger than what is left is 400 amount_too_large (param amount) and refunds nothing', async () => {
      const id = await paid('10.00');
      assert.equal((await refund(id, { amount: 6 })).status, 200);
      const tooLarge = await refund(id, { amount: '4.01' });
      expectError(tooLarge, 400, 'amount_too_large');
      assert.equal(tooLarge.body.error.param, 'amount');
      expectError(await refund(id, { amount: 10.01 }), 400, 'amount_too_large', 'more than the whole payment');
      assert.equal((await getPayment(id)).amount_refunded, 600);
      assert.equal((await refundRows(id)).length, 1);
      // exactly what is left is fine
      const rest = await refund(id, { amount: '4.00' });
      assert.equal(rest.status, 200);
      assert.equal(rest.body.amount, 400);
    });

    test('a malformed refund amount or reason is 400 and refunds nothing; an unknown payment is 404', async () => {
      const id = await paid('5.00');
      for (const amount of ['0', '-1', '1.001', 'abc', '1e2']) {
        const response = await refund(id, { amount });
        assert.equal(response.status, 400, amount);
        assert.equal(response.body.error.param, 'amount', amount);
      }
      assert.equal((await refund(id, { reason: 'boredom' })).status, 400);
      assert.equal((await refund(id, { amount: 1, extra: true })).status, 400);
      assert.equal((await refundRows(id)).length, 0);
      expectError(await refund('pay_doesnotexist0000'), 404, 'payment_not_found');
      const withReason = await refund(id, { amount: 1, reason: 'requested_by_customer' });
      assert.equal(withReason.status, 200);
      assert.equal(withReason.body.reason, 'requested_by_customer');
    });

    test("a refund amount is read in the payment's currency (JPY: 500 is 500, 0.5 is refused)", async () => {
      const id = await paid('1000', suite.alice, { currency: 'JPY' });
      const half = await refund(id, { amount: 500 });
      assert.equal(half.status, 200);
      assert.equal(half.body.amount, 500);
      assert.equal(half.body.currency, 'jpy');
      assert.equal((await refund(id, { amount: '0.5' })).status, 400);
      assert.equal((await getPayment(id)).amount_refunded, 500);
    });

    test('a partially captured payment can be refunded only up to the captured amount', async () => {
      const created = await pay({ amount: '100.00', capture_method: 'manual' });
      assert.equal(created.status, 200);
      assert.equal(created.body.payment.status, 'requires_capture');
      const id: string = created.body.payment.id;
      const captured = await suite.platform.api.call('POST', `/payments/${id}/capture`, { token: suite.alice.token, json: { amount_to_capture: '60.00' } });
      assert.equal(captured.status, 200);
      assert.equal(captured.body.amount_received, 6000);
      expectError(await refund(id, { amount: '60.01' }), 400, 'amount_too_large', 'above the captured amount');
      expectError(await refund(id, { amount: '100.00' }), 400, 'amount_too_large', 'the authorised amount');
      const full = await refund(id);
      assert.equal(full.status, 200);
      assert.equal(full.body.amount, 6000);
      const payment = await getPayment(id);
      assert.equal(payment.amount_refunded, 6000);
      assert.equal(payment.amount_received, 6000);
      expectError(await refund(id), 400, 'charge_already_refunded');
    });

    test('a payment that has not succeeded (uncaptured, canceled, declined, awaiting 3-D Secure, created only) cannot be refunded: 400 payment_unexpected_state', async () => {
      const uncaptured = await pay({ amount: 20, capture_method: 'manual' });
      assert.equal(uncaptured.body.payment.status, 'requires_capture');
      const toCancel = await pay({ amount: 21, capture_method: 'manual' });
      const canceled = await suite.platform.api.call('POST', `/payments/${toCancel.body.payment.id}/cancel`, { token: suite.alice.token, json: {} });
      assert.equal(canceled.status, 200);
      assert.equal(canceled.body.status, 'canceled');
      const declined = await pay({ amount: 22, payment_method: 'pm_card_visa_chargeDeclined' });
      assert.equal(declined.status, 402);
      const threeDs = await pay({ amount: 23, payment_method: 'pm_card_authenticationRequired' });
      assert.equal(threeDs.body.payment.status, 'requires_action');
      const createdOnly = await pay({ amount: 24, payment_method: 'pm_card_visa', confirm: false });
      assert.equal(createdOnly.body.payment.status, 'requires_confirmation');
      const cases: [string, string][] = [
        ['requires_capture', uncaptured.body.payment.id],
        ['canceled', toCancel.body.payment.id],
        ['requires_payment_method', declined.body.error.payment.id],
        ['requires_action', threeDs.body.payment.id],
        ['requires_confirmation', createdOnly.body.payment.id],
      ];
      for (const [status, id] of cases) {
        for (const body of [{}, { amount: 1 }]) {
          const response = await refund(id, body);
          expectError(response, 400, 'payment_unexpected_state', status);
          assert.match(response.body.error.message, new RegExp(status), status);
        }
        assert.equal((await refundRows(id)).length, 0, status);
        assert.equal((await refundTransfers(id)).length, 0, status);
        assert.equal((await getPayment(id)).amount_refunded, 0, status);
      }
    });

    test('only admins and services refund: a user, even the payer, gets 403 and nothing is refunded; an admin gets 200', async () => {
      const id = await paid('8.00');
      for (const [who, user] of [['payer', suite.alice], ['another user', suite.bob]] as const) {
        const response = await refund(id, {}, user.token);
        assert.equal(response.status, 403, who);
        assert.equal(response.body.error.type, 'permission_error', who);
        const partial = await refund(id, { amount: 1 }, user.token);
        assert.equal(partial.status, 403, who);
      }
      assert.equal((await refundRows(id)).length, 0);
      assert.equal((await getPayment(id)).amount_refunded, 0);
      const admin = await refund(id);
      assert.equal(admin.status, 200);
      assert.equal(admin.body.amount, 800);
      const [row] = await queryRows<{ created_by: string }>(suite.db, sql`select created_by from refunds where id = ${admin.body.id}`);
      assert.match(row!.created_by, /^user:\d+$/);
      assert.notEqual(row!.created_by, `user:${suite.alice.id}`);
    });

    test("GET /payments/:id/refunds lists a payment's refunds, newest first, to its owner and an admin; another user gets 404", async () => {
      const id = await paid('9.00');
      const empty = await suite.platform.api.call('GET', `/payments/${id}/refunds`, { token: suite.alice.token });
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body, { object: 'list', data: [], has_more: false });
      const first = await refund(id, { amount: 2 });
      const second = await refund(id, { amount: 3 });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      for (const token of [suite.alice.token, suite.adminToken]) {
        const list = await suite.platform.api.call('GET', `/payments/${id}/refunds`, { token });
        assert.equal(list.status, 200);
        assert.equal(list.body.object, 'list');
        assert.deepEqual(list.body.data, [second.body, first.body]);
      }
      const foreign = await suite.platform.api.call('GET', `/payments/${id}/refunds`, { token: suite.bob.token });
      assert.equal(foreign.status, 404);
      assert.equal(foreign.body.error.code, 'payment_not_found');
      const unknown = await suite.platform.api.call('GET', '/payments/pay_doesnotexist0000/refunds', { token: suite.bob.token });
      assert.deepEqual(unknown.body, foreign.body);
    });

    test("GET /payments/:id/refunds pages with limit and starting_after: every refund once, newest first; another payment's refund is not a cursor", async () => {
      const id = await paid('9.00');
      const made: string[] = [];
      for (let i = 0; i < 5; i++) {
        const one = await refund(id, { amount: 1 });
        assert.equal(one.status, 200, JSON.stringify(one.body));
        made.unshift(one.body.id);
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (let page = 0; page < 5; page++) {
        const list = await suite.platform.api.call('GET', `/payments/${id}/refunds?limit=2${after === undefined ? '' : `&starting_after=${after}`}`, { token: suite.alice.token });
        assert.equal(list.status, 200, JSON.stringify(list.body));
        seen.push(...list.body.data.map((r: { id: string }) => r.id));
        assert.equal(list.body.has_more, seen.length < made.length);
        if (!list.body.has_more) break;
        after = seen.at(-1);
      }
      assert.deepEqual(seen, made);
      const otherPayment = await paid('1.00');
      const otherRefund = await refund(otherPayment, { amount: 1 });
      for (const query of [`starting_after=${otherRefund.body.id}`, 'starting_after=re_nope', 'limit=0', 'limit=101', 'limit=01', 'order=asc']) {
        const refused = await suite.platform.api.call('GET', `/payments/${id}/refunds?${query}`, { token: suite.alice.token });
        assert.equal(refused.status, 400, `${query}: ${JSON.stringify(refused.body)}`);
        assert.equal(refused.body.error.code, query.startsWith('order') ? 'parameter_unknown' : 'parameter_invalid', query);
      }
    });

    test('a wallet payment is refunded to the wallet: its balance goes back up, and system:refunds pays for it', async () => {
      const carol = await suite.platform.api.signUp();
      const topUp = await suite.platform.api.call('POST', '/wallet/top-ups', { token: carol.token, json: { amount: '20.00', payment_method: 'pm_card_visa' } });
      assert.equal(topUp.status, 200, JSON.stringify(topUp.body));
      assert.equal(await walletAvailable(carol), 2000);
      const payment = await pay({ amount: '15.00', payment_method: 'wallet' }, carol);
      assert.equal(payment.status, 200, JSON.stringify(payment.body));
      const id: string = payment.body.payment.id;
      assert.equal(await walletAvailable(carol), 500);
      const clearingBefore = await account('system:processor_clearing:USD');
      const refundsBefore = await account('system:refunds:USD');
      assert.equal((await refund(id, { amount: '5.00' })).status, 200);
      assert.equal(await walletAvailable(carol), 1000);
      assert.equal((await refund(id)).status, 200);
      assert.equal(await walletAvailable(carol), 2000);
      assert.equal((await getPayment(id)).amount_refunded, 1500);
      const wallet = await account(`user:${carol.id}:wallet:USD`);
      assert.deepEqual(wallet, { debits_posted: 1500, credits_posted: 3500, debits_pending: 0, credits_pending: 0 });
      // the card side is untouched: the money never went back through the processor
      assert.deepEqual(await account('system:processor_clearing:USD'), clearingBefore);
      assert.equal((await account('system:refunds:USD')).debits_posted - refundsBefore.debits_posted, 1500);
      assert.deepEqual((await refundTransfers(id)).map((t) => [t.amount_minor, t.debit, t.credit, t.flags]), [
        // reserved, then posted once refunded
        ['500', 'system:refunds:USD', `user:${carol.id}:wallet:USD`, 'pending'],
        ['500', 'system:refunds:USD', `user:${carol.id}:wallet:USD`, 'post_pending'],
        ['1000', 'system:refunds:USD', `user:${carol.id}:wallet:USD`, 'pending'],
        ['1000', 'system:refunds:USD', `user:${carol.id}:wallet:USD`, 'post_pending'],
      ]);
    });

    test('a card refund debits system:refunds:<CUR> and credits system:processor_clearing:<CUR>, and leaves revenue alone', async () => {
      const id = await paid('7.25', suite.alice, { currency: 'EUR' });
      const before = { clearing: await account('system:processor_clearing:EUR'), refunds: await account('system:refunds:EUR'), revenue: await account('system:platform_revenue:EUR') };
      const response = await refund(id, { amount: '2.25' });
      assert.equal(response.status, 200);
      const after = { clearing: await account('system:processor_clearing:EUR'), refunds: await account('system:refunds:EUR'), revenue: await account('system:platform_revenue:EUR') };
      assert.equal(after.refunds.debits_posted - before.refunds.debits_posted, 225);
      assert.equal(after.refunds.credits_posted - before.refunds.credits_posted, 0);
      assert.equal(after.clearing.credits_posted - before.clearing.credits_posted, 225);
      assert.equal(after.clearing.debits_posted - before.clearing.debits_posted, 0);
      assert.deepEqual(after.revenue, before.revenue);
      assert.deepEqual((await refundTransfers(id)).map((t) => [t.amount_minor, t.debit, t.credit, t.flags, t.reference]), [
        ['225', 'system:refunds:EUR', 'system:processor_clearing:EUR', 'pending', response.body.id],
        ['225', 'system:refunds:EUR', 'system:processor_clearing:EUR', 'post_pending', response.body.id],
      ]);
      assert.equal((await getPayment(id)).amount_refunded, 225);
    });

    test('every refund writes one refund.created and one refund.succeeded outbox event carrying its amount', async () => {
      const id = await paid('6.00');
      const ids: string[] = [];
      for (const amount of ['1.00', '2.00', undefined]) {
        const response = await refund(id, amount === undefined ? {} : { amount });
        assert.equal(response.status, 200);
        ids.push(response.body.id);
      }
      const events = await queryRows<{ subject: string; refund_id: string; amount_minor: string; user_id: number; status: string }>(suite.db, sql`
        select subject, payload->>'refund_id' as refund_id, payload->>'amount_minor' as amount_minor, (payload->>'user_id')::int as user_id, payload->>'status' as status
        from outbox where subject like 'refund.%' and payload->>'payment_id' = ${id}`);
      const amounts: Record<string, string> = { [ids[0]!]: '100', [ids[1]!]: '200', [ids[2]!]: '300' };
      for (const refundId of ids) {
        const mine = events.filter((e) => e.refund_id === refundId);
        assert.deepEqual(mine.map((e) => e.subject).sort(), ['refund.created', 'refund.succeeded'], refundId);
        for (const event of mine) {
          assert.equal(event.amount_minor, amounts[refundId]);
          assert.equal(Number(event.user_id), suite.alice.id);
          // created while reserved, succeeded once the processor refunded
          assert.equal(event.status, event.subject === 'refund.created' ? 'pending' : 'succeeded');
        }
      }
      assert.equal(events.length, 6);
      // a refused refund announces nothing
      expectError(await refund(id), 400, 'charge_already_refunded');
      const [count] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from outbox where subject like 'refund.%' and payload->>'payment_id' = ${id}`);
      assert.equal(count!.n, '6');
    });

    test('10 concurrent refunds of 30% each: exactly 3 succeed, the others are 400, 90% is refunded and the invariants hold', async () => {
      const id = await paid('100.00');
      const responses = await Promise.all(Array.from({ length: 10 }, () => refund(id, { amount: '30.00' })));
      const succeeded = responses.filter((r) => r.status === 200);
      const refused = responses.filter((r) => r.status !== 200);
      assert.equal(succeeded.length, 3, responses.map((r) => `${r.status} ${JSON.stringify(r.body)}`).join('\n'));
      for (const r of refused) expectError(r, 400, 'amount_too_large', 'a refused concurrent refund');
      assert.equal(new Set(succeeded.map((r) => r.body.id)).size, 3);
      const payment = await getPayment(id);
      assert.equal(payment.amount_refunded, 9000);
      const rows = await refundRows(id);
      assert.deepEqual(rows.map((r) => [r.amount_minor, r.status]), [['3000', 'succeeded'], ['3000', 'succeeded'], ['3000', 'succeeded']]);
      assert.deepEqual((await refundTransfers(id)).filter((t) => t.flags === 'post_pending').map((t) => t.amount_minor), ['3000', '3000', '3000']);
      const [events] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from outbox where subject like 'refund.%' and payload->>'payment_id' = ${id}`);
      assert.equal(events!.n, '6');
      assert.deepEqual(await checkLedgerInvariants(suite.db), []);
      // what is left is still refundable
      const rest = await refund(id);
      assert.equal(rest.status, 200);
      assert.equal(rest.body.amount, 1000);
    });

    test('a refund left pending by a crash between its phases holds its amount, and the sweeper finishes it exactly once', async () => {
      const id = await paid('40.00');
      const ctx = suite.platform.service('payments').context;
      const admin = { kind: 'service', subject: 'payments-service' } as Caller;
      // Phase 1 only, as if the process died before asking the processor.
      const reserved = await ctx.db.transaction((tx) => reserveRefund(ctx, tx, admin, id, 1500n, undefined));
      assert.equal(reserved.refund.status, 'pending');
      assert.deepEqual(await checkLedgerInvariants(suite.db), []);
      // The reservation counts: only 25.00 is left to refund meanwhile.
      expectError(await refund(id, { amount: '25.01' }), 400, 'amount_too_large', 'refund beyond the pending reservation');
      assert.equal((await getPayment(id)).amount_refunded, 1500);
      const clearing = await account('system:processor_clearing:USD');
      assert.equal(await resumePendingRefunds(ctx, 0), 1);
      assert.equal(await resumePendingRefunds(ctx, 0), 0, 'a finished refund is not finished twice');
      assert.deepEqual((await refundRows(id)).map((r) => [r.amount_minor, r.status]), [['1500', 'succeeded']]);
      assert.equal((await account('system:processor_clearing:USD')).credits_posted - clearing.credits_posted, 1500);
      const [events] = await queryRows<{ subjects: string }>(suite.db, sql`select string_agg(subject, ',' order by created_at) as subjects from outbox where payload->>'refund_id' = ${reserved.refund.id}`);
      assert.equal(events!.subjects, 'refund.created,refund.succeeded');
      assert.deepEqual(await checkLedgerInvariants(suite.db), []);
    });

    test('the ledger invariants hold after every scenario above, and refunds never pass what was received', async () => {
      await assertInvariantsOverScenarios(suite.db);
      const over = await queryRows<{ id: string }>(suite.db, sql`
        select p.id from payments p where p.amount_refunded > p.amount_received
          or p.amount_refunded <> coalesce((select sum(r.amount_minor) from refunds r where r.payment_id = p.id and r.status = 'succeeded'), 0)`);
      assert.deepEqual(over, []);
    });
  });
}
