// The payment lifecycle through the public API: created without confirming, confirmed, authorized
// and captured (wholly or partly), canceled, and refused in every state an action does not start
// from; other users' payments untouchable; the ledger's pending balances and the outbox's events
// after each step; payers followed from user.disabled / user.enabled / user.deleted.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends, eventually, suitePlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { newEvent, type EventEnvelope } from '@paymesh/platform/events/event';
import { assertInvariantsOverScenarios } from './assert-ledger-invariants.ts';

type User = { id: number; token: string };
type Balance = { debits_posted: string; credits_posted: string; debits_pending: string; credits_pending: string };

const clearing = 'system:processor_clearing:USD';
const revenue = 'system:platform_revenue:USD';

for (const backend of backends()) {
  describe(`payment lifecycle (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice', 'bob'] });

    const pay = (body: Record<string, unknown>, user: User = suite.alice) => suite.platform.api.call('POST', '/payments', { token: user.token, json: { user_id: user.id, ...body } });
    const act = (id: string, action: 'confirm' | 'capture' | 'cancel', body?: Record<string, unknown>, token = suite.alice.token) =>
      suite.platform.api.call('POST', `/payments/${id}/${action}`, { token, json: body });
    const get = async (id: string, token = suite.adminToken) => {
      const response = await suite.platform.api.call('GET', `/payments/${id}`, { token });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body;
    };
    /** A payment as stored, with the columns an action may change. */
    const stored = async (id: string) => (await queryRows<Record<string, unknown>>(suite.db, sql`select status, amount_capturable::text, amount_received::text,
      payment_method_id, authorization_transfer_id::text, last_payment_error::text, cancellation_reason, canceled_at::text, updated_at::text
      from payments where id = ${id}`))[0];
    const transfers = (id: string) => queryRows<{ flags: string; amount_minor: string; resolves: boolean }>(suite.db, sql`
      select flags, amount_minor::text, pending_id is not null as resolves from ledger_transfers where payment_id = ${id} order by created_at, flags`);
    const ledger = async (): Promise<Record<string, Balance>> => {
      const rows = await queryRows<Balance & { code: string }>(suite.db, sql`select code, debits_posted::text, credits_posted::text, debits_pending::text, credits_pending::text
        from ledger_accounts where code in (${clearing}, ${revenue})`);
      const zero = { debits_posted: '0', credits_posted: '0', debits_pending: '0', credits_pending: '0' };
      const byCode = Object.fromEntries(rows.map(({ code, ...balance }) => [code, balance]));
      return { [clearing]: byCode[clearing] ?? zero, [revenue]: byCode[revenue] ?? zero };
    };
    /** `balance` moved by the given amounts (minor units). */
    const moved = (balance: Balance, by: Partial<Record<keyof Balance, number>>): Balance => ({
      debits_posted: String(BigInt(balance.debits_posted) + BigInt(by.debits_posted ?? 0)),
      credits_posted: String(BigInt(balance.credits_posted) + BigInt(by.credits_posted ?? 0)),
      debits_pending: String(BigInt(balance.debits_pending) + BigInt(by.debits_pending ?? 0)),
      credits_pending: String(BigInt(balance.credits_pending) + BigInt(by.credits_pending ?? 0)),
    });
    /** The payment's outbox subjects in created_at order; events written in one instant are put in the expected order among themselves. */
    const eventsOf = async (id: string, expected: readonly string[]) => {
      const rows = await queryRows<{ subject: string; at: string }>(suite.db, sql`
        select subject, (extract(epoch from created_at) * 1000000)::bigint::text as at from outbox where payload->>'payment_id' = ${id} order by created_at`);
      const rank = (subject: string) => (expected.includes(subject) ? expected.indexOf(subject) : Number.MAX_SAFE_INTEGER);
      const ordered = [...rows].sort((a, b) => (BigInt(a.at) === BigInt(b.at) ? rank(a.subject) - rank(b.subject) : BigInt(a.at) < BigInt(b.at) ? -1 : 1));
      return ordered.map((r) => r.subject);
    };
    const assertEvents = async (id: string, expected: readonly string[]) => assert.deepEqual(await eventsOf(id, expected), expected, `events of ${id}`);
    const outboxCount = async () => Number((await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from outbox`))[0]!.n);
    const authorize = async (amount: string, user: User = suite.alice) => {
      const response = await pay({ amount, capture_method: 'manual', payment_method: 'pm_card_visa' }, user);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.payment.status, 'requires_capture');
      return response.body.payment;
    };

    describe('creating without confirming', () => {
      test('confirm:false without a payment method is requires_payment_method: no method, no money, only payment.created', async () => {
        const response = await pay({ amount: 5, confirm: false });
        assert.equal(response.status, 200);
        assert.equal(response.body.success, true);
        assert.equal(response.body.message, `Payment of $5.00 created for user ${suite.alice.id}`);
        const payment = response.body.payment;
        assert.equal(payment.status, 'requires_payment_method');
        assert.equal(payment.payment_method, null);
        assert.equal(payment.amount, 500);
        assert.equal(payment.amount_capturable, 0);
        assert.equal(payment.amount_received, 0);
        assert.equal(payment.last_payment_error, null);
        assert.deepEqual(await get(payment.id), payment);
        assert.deepEqual(await transfers(payment.id), []);
        await assertEvents(payment.id, ['payment.created']);
      });

      test('confirm:false with a payment method is requires_confirmation; confirming it then succeeds with that method', async () => {
        const before = await ledger();
        const created = await pay({ amount: '6.50', confirm: false, payment_method: 'pm_card_visa' });
        assert.equal(created.status, 200);
        const payment = created.body.payment;
        assert.equal(payment.status, 'requires_confirmation');
        assert.equal(payment.payment_method.type, 'card');
        assert.equal(payment.payment_method.card.brand, 'visa');
        assert.equal(payment.payment_method.card.last4, '4242');
        assert.equal(payment.amount_received, 0);
        assert.deepEqual(await transfers(payment.id), []);
        assert.deepEqual(await ledger(), before);
        await assertEvents(payment.id, ['payment.created']);

        const confirmed = await act(payment.id, 'confirm');
        assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
        assert.equal(confirmed.body.id, payment.id);
        assert.equal(confirmed.body.status, 'succeeded');
        assert.equal(confirmed.body.amount_received, 650);
        assert.equal(confirmed.body.amount_capturable, 0);
        assert.deepEqual(confirmed.body.payment_method, payment.payment_method);
        assert.deepEqual(await get(payment.id), confirmed.body);
        assert.deepEqual(await transfers(payment.id), [{ flags: 'single', amount_minor: '650', resolves: false }]);
        assert.deepEqual(await ledger(), { [clearing]: moved(before[clearing]!, { debits_posted: 650 }), [revenue]: moved(before[revenue]!, { credits_posted: 650 }) });
        await assertEvents(payment.id, ['payment.created', 'payment.succeeded']);
      });

      test('a payment created without a method is confirmed with the method given to confirm', async () => {
        const created = await pay({ amount: 7, confirm: false });
        assert.equal(created.body.payment.status, 'requires_payment_method');
        const confirmed = await act(created.body.payment.id, 'confirm', { payment_method: 'pm_card_visa' });
        assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
        assert.equal(confirmed.body.status, 'succeeded');
        assert.equal(confirmed.body.amount_received, 700);
        assert.equal(confirmed.body.payment_method.card.last4, '4242');
        await assertEvents(created.body.payment.id, ['payment.created', 'payment.succeeded']);
      });

      test('confirming a payment that has no payment method is refused with 400 payment_method_required and changes nothing', async () => {
        const created = await pay({ amount: 8, confirm: false });
        const id: string = created.body.payment.id;
        const before = await stored(id);
        for (const body of [undefined, {}]) {
          const response = await act(id, 'confirm', body);
          assert.equal(response.status, 400, JSON.stringify(response.body));
          assert.equal(response.body.error.code, 'payment_method_required');
          assert.equal(response.body.error.param, 'payment_method');
        }
        assert.deepEqual(await stored(id), before);
        assert.equal((await get(id)).status, 'requires_payment_method');
        assert.deepEqual(await transfers(id), []);
        await assertEvents(id, ['payment.created']);
      });
    });

    describe('manual capture', () => {
      test('capture_method manual authorizes: requires_capture with amount_capturable, one pending transfer, pending balances up, nothing received', async () => {
        const before = await ledger();
        const response = await pay({ amount: '25.00', capture_method: 'manual', payment_method: 'pm_card_visa' });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.equal(response.body.message, `Payment of $25.00 authorized for user ${suite.alice.id}`);
        const payment = response.body.payment;
        assert.equal(payment.status, 'requires_capture');
        assert.equal(payment.capture_method, 'manual');
        assert.equal(payment.amount_capturable, 2500);
        assert.equal(payment.amount_received, 0);
        assert.deepEqual(await transfers(payment.id), [{ flags: 'pending', amount_minor: '2500', resolves: false }]);
        assert.deepEqual(await ledger(), { [clearing]: moved(before[clearing]!, { debits_pending: 2500 }), [revenue]: moved(before[revenue]!, { credits_pending: 2500 }) });
        await assertEvents(payment.id, ['payment.created', 'payment.requires_capture']);
      });

      test('capturing without an amount takes all of it: succeeded, amount_received the whole amount, the pending transfer posted', async () => {
        const before = await ledger();
        const payment = await authorize('25.00');
        const captured = await act(payment.id, 'capture');
        assert.equal(captured.status, 200, JSON.stringify(captured.body));
        assert.equal(captured.body.status, 'succeeded');
        assert.equal(captured.body.amount_received, 2500);
        assert.equal(captured.body.amount_capturable, 0);
        assert.deepEqual(await get(payment.id), captured.body);
        assert.deepEqual(await transfers(payment.id), [{ flags: 'pending', amount_minor: '2500', resolves: false }, { flags: 'post_pending', amount_minor: '2500', resolves: true }]);
        assert.deepEqual(await ledger(), { [clearing]: moved(before[clearing]!, { debits_posted: 2500 }), [revenue]: moved(before[revenue]!, { credits_posted: 2500 }) });
        await assertEvents(payment.id, ['payment.created', 'payment.requires_capture', 'payment.captured', 'payment.succeeded']);
      });

      test('a partial capture receives the captured amount and releases the rest: no pending left on clearing or revenue', async () => {
        const before = await ledger();
        const payment = await authorize('30.00');
        assert.deepEqual(await ledger(), { [clearing]: moved(before[clearing]!, { debits_pending: 3000 }), [revenue]: moved(before[revenue]!, { credits_pending: 3000 }) });
        const captured = await act(payment.id, 'capture', { amount_to_capture: '12.34' });
        assert.equal(captured.status, 200, JSON.stringify(captured.body));
        assert.equal(captured.body.status, 'succeeded');
        assert.equal(captured.body.amount, 3000);
        assert.equal(captured.body.amount_received, 1234);
        assert.equal(captured.body.amount_capturable, 0);
        assert.deepEqual(await get(payment.id), captured.body);
        // Pending back where it was; only the captured part posted.
        assert.deepEqual(await ledger(), { [clearing]: moved(before[clearing]!, { debits_posted: 1234 }), [revenue]: moved(before[revenue]!, { credits_posted: 1234 }) });
        assert.deepEqual(await transfers(payment.id), [{ flags: 'pending', amount_minor: '3000', resolves: false }, { flags: 'post_pending', amount_minor: '1234', resolves: true }]);
        await assertEvents(payment.id, ['payment.created', 'payment.requires_capture', 'payment.captured', 'payment.succeeded']);
        const [event] = await queryRows<{ amount_captured: string; amount_received: string }>(suite.db, sql`
          select payload->>'amount_captured' as amount_captured, payload->>'amount_received' as amount_received from outbox where subject = 'payment.captured' and payload->>'payment_id' = ${payment.id}`);
        assert.deepEqual({ ...event }, { amount_captured: '1234', amount_received: '1234' });
      });

      test('capturing more than authorized is refused with 400 amount_too_large param amount_to_capture and changes nothing; exactly the amount is accepted', async () => {
        const payment = await authorize('10.00');
        const before = { row: await stored(payment.id), ledger: await ledger(), transfers: await transfers(payment.id), outbox: await outboxCount() };
        for (const amount of ['10.01', 11, '1000000.00']) {
          const response = await act(payment.id, 'capture', { amount_to_capture: amount });
          assert.equal(response.status, 400, String(amount));
          assert.equal(response.body.error.code, 'amount_too_large', String(amount));
          assert.equal(response.body.error.param, 'amount_to_capture', String(amount));
        }
        for (const amount of ['0', '-1', '1.001']) {
          const response = await act(payment.id, 'capture', { amount_to_capture: amount });
          assert.equal(response.status, 400, amount);
          assert.equal(response.body.error.param, 'amount_to_capture', amount);
        }
        assert.deepEqual({ row: await stored(payment.id), ledger: await ledger(), transfers: await transfers(payment.id), outbox: await outboxCount() }, before);
        const exact = await act(payment.id, 'capture', { amount_to_capture: '10.00' });
        assert.equal(exact.status, 200, JSON.stringify(exact.body));
        assert.equal(exact.body.amount_received, 1000);
      });

      test('capturing twice is refused with 400 payment_unexpected_state and the second capture moves nothing', async () => {
        const payment = await authorize('9.00');
        assert.equal((await act(payment.id, 'capture', { amount_to_capture: '4.00' })).status, 200);
        const before = { row: await stored(payment.id), ledger: await ledger(), transfers: await transfers(payment.id), outbox: await outboxCount() };
        for (const body of [undefined, { amount_to_capture: '1.00' }]) {
          const again = await act(payment.id, 'capture', body);
          assert.equal(again.status, 400, JSON.stringify(body));
          assert.equal(again.body.error.code, 'payment_unexpected_state');
        }
        assert.deepEqual({ row: await stored(payment.id), ledger: await ledger(), transfers: await transfers(payment.id), outbox: await outboxCount() }, before);
        assert.equal((await get(payment.id)).amount_received, 400);
        await assertEvents(payment.id, ['payment.created', 'payment.requires_capture', 'payment.captured', 'payment.succeeded']);
      });

      test('only an authorized payment can be captured: succeeded (automatic) and requires_confirmation are 400 payment_unexpected_state', async () => {
        const automatic = await pay({ amount: 3 });
        assert.equal(automatic.body.payment.status, 'succeeded');
        const unconfirmed = await pay({ amount: 3, confirm: false, payment_method: 'pm_card_visa', capture_method: 'manual' });
        assert.equal(unconfirmed.body.payment.status, 'requires_confirmation');
        for (const id of [automatic.body.payment.id, unconfirmed.body.payment.id]) {
          const response = await act(id, 'capture');
          assert.equal(response.status, 400);
          assert.equal(response.body.error.code, 'payment_unexpected_state');
        }
        assert.equal((await get(automatic.body.payment.id)).amount_received, 300);
        assert.equal((await get(unconfirmed.body.payment.id)).status, 'requires_confirmation');
        assert.deepEqual(await transfers(unconfirmed.body.payment.id), []);
      });

      test('a manual wallet payment holds the money; a partial capture spends the captured part and gives the rest back to the wallet', async () => {
        const carol = await suite.platform.api.signUp();
        const topUp = await suite.platform.api.call('POST', '/wallet/top-ups', { token: carol.token, json: { amount: '50.00', payment_method: 'pm_card_visa' } });
        assert.equal(topUp.status, 200, JSON.stringify(topUp.body));
        const wallet = async () => (await suite.platform.api.call('GET', '/wallet', { token: carol.token })).body.balances.find((b: { currency: string }) => b.currency === 'usd');
        const authorized = await pay({ amount: '20.00', capture_method: 'manual', payment_method: 'wallet' }, carol);
        assert.equal(authorized.status, 200, JSON.stringify(authorized.body));
        assert.equal(authorized.body.payment.status, 'requires_capture');
        assert.deepEqual(authorized.body.payment.payment_method, { type: 'wallet' });
        assert.deepEqual({ available: (await wallet()).available, held: (await wallet()).held }, { available: 3000, held: 2000 });
        const captured = await act(authorized.body.payment.id, 'capture', { amount_to_capture: '5.00' }, carol.token);
        assert.equal(captured.status, 200, JSON.stringify(captured.body));
        assert.equal(captured.body.amount_received, 500);
        assert.deepEqual({ available: (await wallet()).available, held: (await wallet()).held }, { available: 4500, held: 0 });
        await assertEvents(authorized.body.payment.id, ['payment.created', 'payment.requires_capture', 'payment.captured', 'payment.succeeded']);

        // Canceling a wallet authorization gives all of it back.
        const second = await pay({ amount: '45.00', capture_method: 'manual', payment_method: 'wallet' }, carol);
        assert.equal(second.status, 200, JSON.stringify(second.body));
        assert.deepEqual({ available: (await wallet()).available, held: (await wallet()).held }, { available: 0, held: 4500 });
        assert.equal((await pay({ amount: '0.01', payment_method: 'wallet' }, carol)).status, 402);
        assert.equal((await act(second.body.payment.id, 'cancel', undefined, carol.token)).body.status, 'canceled');
        assert.deepEqual({ available: (await wallet()).available, held: (await wallet()).held }, { available: 4500, held: 0 });
      });

      test('a capture repeated with its Idempotency-Key replays the first response instead of failing, and captures once', async () => {
        const payment = await authorize('14.00');
        const key = `capture-${payment.id}`;
        const capture = () => suite.platform.api.call('POST', `/payments/${payment.id}/capture`, { token: suite.alice.token, json: { amount_to_capture: '7.00' }, headers: { 'idempotency-key': key } });
        const first = await capture();
        assert.equal(first.status, 200, JSON.stringify(first.body));
        const again = await capture();
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.headers.get('idempotent-replayed'), 'true');
        assert.deepEqual(again.body, first.body);
        assert.equal((await transfers(payment.id)).length, 2);
        // The same key on another payment's capture is another request: refused as a reuse.
        const other = await authorize('1.00');
        const reused = await suite.platform.api.call('POST', `/payments/${other.id}/capture`, { token: suite.alice.token, json: { amount_to_capture: '7.00' }, headers: { 'idempotency-key': key } });
        assert.equal(reused.status, 400);
        assert.equal(reused.body.error.code, 'idempotency_key_reused');
        assert.equal((await get(other.id)).status, 'requires_capture');
      });

      test('an authorized payment cannot be confirmed again (400 payment_unexpected_state)', async () => {
        const payment = await authorize('5.00');
        for (const body of [undefined, { payment_method: 'pm_card_visa' }]) {
          const response = await act(payment.id, 'confirm', body);
          assert.equal(response.status, 400);
          assert.equal(response.body.error.code, 'payment_unexpected_state');
        }
        assert.deepEqual(await transfers(payment.id), [{ flags: 'pending', amount_minor: '500', resolves: false }]);
        assert.equal((await act(payment.id, 'cancel')).status, 200);
      });
    });

    describe('who decides what becomes of an authorization', () => {
      test('a hold an admin placed on a user is captured or canceled by the admin, never by the payer (403, nothing moves)', async () => {
        const held = await suite.platform.api.call('POST', '/payments', { token: suite.adminToken, json: { user_id: suite.alice.id, amount: '100.00', capture_method: 'manual', payment_method: 'pm_card_visa' } });
        assert.equal(held.status, 200, JSON.stringify(held.body));
        const id: string = held.body.payment.id;
        const before = await ledger();
        for (const [action, body] of [['capture', { amount_to_capture: '0.01' }], ['capture', {}], ['cancel', {}]] as const) {
          const refused = await act(id, action, body, suite.alice.token);
          assert.equal(refused.status, 403, `${action}: ${JSON.stringify(refused.body)}`);
          assert.equal(refused.body.error.type, 'permission_error');
        }
        assert.deepEqual(await ledger(), before);
        assert.equal((await get(id)).status, 'requires_capture');
        const captured = await act(id, 'capture', { amount_to_capture: '60.00' }, suite.adminToken);
        assert.equal(captured.status, 200, JSON.stringify(captured.body));
        assert.equal(captured.body.amount_received, 6000);
      });

      test('a payer may still cancel a payment an admin created for them before it is authorized', async () => {
        const draft = await suite.platform.api.call('POST', '/payments', { token: suite.adminToken, json: { user_id: suite.alice.id, amount: '5.00', confirm: false } });
        assert.equal(draft.status, 200);
        const canceled = await act(draft.body.payment.id, 'cancel', {}, suite.alice.token);
        assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
        assert.equal(canceled.body.status, 'canceled');
      });
    });

    describe('cancel', () => {
      test('canceling an authorized payment voids the authorization: pending released, nothing posted, status canceled', async () => {
        const before = await ledger();
        const payment = await authorize('40.00');
        const canceled = await act(payment.id, 'cancel', { cancellation_reason: 'requested_by_customer' });
        assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
        assert.equal(canceled.body.status, 'canceled');
        assert.equal(canceled.body.cancellation_reason, 'requested_by_customer');
        assert.equal(typeof canceled.body.canceled_at, 'number');
        assert.equal(canceled.body.amount_capturable, 0);
        assert.equal(canceled.body.amount_received, 0);
        assert.deepEqual(await get(payment.id), canceled.body);
        assert.deepEqual(await ledger(), before);
        assert.deepEqual(await transfers(payment.id), [{ flags: 'pending', amount_minor: '4000', resolves: false }, { flags: 'void_pending', amount_minor: '4000', resolves: true }]);
        await assertEvents(payment.id, ['payment.created', 'payment.requires_capture', 'payment.canceled']);
      });

      test('a canceled authorization cannot be captured, confirmed or canceled again (400 payment_unexpected_state)', async () => {
        const payment = await authorize('15.00');
        assert.equal((await act(payment.id, 'cancel')).status, 200);
        const before = { row: await stored(payment.id), ledger: await ledger(), transfers: await transfers(payment.id), outbox: await outboxCount() };
        for (const [action, body] of [['capture', undefined], ['capture', { amount_to_capture: '1.00' }], ['confirm', undefined], ['confirm', { payment_method: 'pm_card_visa' }], ['cancel', undefined]] as const) {
          const response = await act(payment.id, action, body);
          assert.equal(response.status, 400, `${action} ${JSON.stringify(body)}`);
          assert.equal(response.body.error.code, 'payment_unexpected_state', `${action} ${JSON.stringify(body)}`);
        }
        assert.deepEqual({ row: await stored(payment.id), ledger: await ledger(), transfers: await transfers(payment.id), outbox: await outboxCount() }, before);
      });

      test('payments awaiting confirmation or a payment method can be canceled, and a canceled one is not confirmed (400)', async () => {
        const awaitingConfirmation = (await pay({ amount: 4, confirm: false, payment_method: 'pm_card_visa' })).body.payment;
        const awaitingMethod = (await pay({ amount: 4, confirm: false })).body.payment;
        for (const payment of [awaitingConfirmation, awaitingMethod]) {
          const canceled = await act(payment.id, 'cancel', { cancellation_reason: 'abandoned' });
          assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
          assert.equal(canceled.body.status, 'canceled');
          assert.equal(canceled.body.cancellation_reason, 'abandoned');
          const confirm = await act(payment.id, 'confirm', { payment_method: 'pm_card_visa' });
          assert.equal(confirm.status, 400);
          assert.equal(confirm.body.error.code, 'payment_unexpected_state');
          assert.equal((await get(payment.id)).status, 'canceled');
          assert.deepEqual(await transfers(payment.id), []);
          await assertEvents(payment.id, ['payment.created', 'payment.canceled']);
        }
      });

      test('a succeeded payment cannot be canceled: 400 payment_unexpected_state, and it stays succeeded', async () => {
        const payment = (await pay({ amount: '2.22' })).body.payment;
        assert.equal(payment.status, 'succeeded');
        const before = { row: await stored(payment.id), ledger: await ledger(), transfers: await transfers(payment.id) };
        const response = await act(payment.id, 'cancel', { cancellation_reason: 'duplicate' });
        assert.equal(response.status, 400);
        assert.equal(response.body.error.code, 'payment_unexpected_state');
        assert.deepEqual({ row: await stored(payment.id), ledger: await ledger(), transfers: await transfers(payment.id) }, before);
        assert.deepEqual(await get(payment.id), payment);
        await assertEvents(payment.id, ['payment.created', 'payment.succeeded']);
      });

      test('an unknown cancellation_reason is refused with 400 and the payment stays as it was', async () => {
        const payment = await authorize('3.00');
        const response = await act(payment.id, 'cancel', { cancellation_reason: 'bored' });
        assert.equal(response.status, 400);
        assert.equal(response.body.error.param, 'cancellation_reason');
        assert.equal((await get(payment.id)).status, 'requires_capture');
      });
    });

    describe('declines and 3-D Secure', () => {
      test('a declined attempt announces payment.failed; a retry that succeeds announces payment.succeeded', async () => {
        const declined = await pay({ amount: 11, payment_method: 'pm_card_visa_chargeDeclined' });
        assert.equal(declined.status, 402);
        const id: string = declined.body.error.payment.id;
        await assertEvents(id, ['payment.created', 'payment.failed']);
        const retried = await act(id, 'confirm', { payment_method: 'pm_card_visa' });
        assert.equal(retried.status, 200, JSON.stringify(retried.body));
        assert.equal(retried.body.status, 'succeeded');
        assert.equal(retried.body.last_payment_error, null);
        await assertEvents(id, ['payment.created', 'payment.failed', 'payment.succeeded']);
        assert.deepEqual(await transfers(id), [{ flags: 'single', amount_minor: '1100', resolves: false }]);
      });

      test('a payment requiring authentication announces payment.requires_action, can be canceled from there, and moves no money', async () => {
        const created = await pay({ amount: 12, payment_method: 'pm_card_authenticationRequired' });
        assert.equal(created.status, 200, JSON.stringify(created.body));
        assert.equal(created.body.payment.status, 'requires_action');
        const id: string = created.body.payment.id;
        await assertEvents(id, ['payment.created', 'payment.requires_action']);
        const canceled = await act(id, 'cancel');
        assert.equal(canceled.status, 200);
        assert.equal(canceled.body.status, 'canceled');
        assert.equal(canceled.body.next_action, null);
        assert.deepEqual(await transfers(id), []);
        await assertEvents(id, ['payment.created', 'payment.requires_action', 'payment.canceled']);
      });

      test('confirming a requires_action payment completes it; a manual one then awaits capture', async () => {
        const created = await pay({ amount: 13, payment_method: 'pm_card_authenticationRequired', capture_method: 'manual' });
        const id: string = created.body.payment.id;
        const confirmed = await act(id, 'confirm');
        assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
        assert.equal(confirmed.body.status, 'requires_capture');
        assert.equal(confirmed.body.amount_capturable, 1300);
        assert.equal(confirmed.body.next_action, null);
        assert.equal((await act(id, 'capture')).body.status, 'succeeded');
        await assertEvents(id, ['payment.created', 'payment.requires_action', 'payment.requires_capture', 'payment.captured', 'payment.succeeded']);
      });
    });

    describe('races on one payment', () => {
      test('concurrent captures and cancels of one authorization: exactly one wins, the others get 400 payment_unexpected_state', async () => {
        for (let round = 0; round < 3; round++) {
          const before = await ledger();
          const payment = await authorize('8.00');
          const responses = await Promise.all([
            act(payment.id, 'capture'), act(payment.id, 'capture', { amount_to_capture: '3.00' }), act(payment.id, 'cancel'), act(payment.id, 'capture'), act(payment.id, 'cancel'),
          ]);
          const won = responses.filter((r) => r.status === 200);
          assert.equal(won.length, 1, responses.map((r) => `${r.status} ${JSON.stringify(r.body)}`).join('\n'));
          for (const lost of responses.filter((r) => r.status !== 200)) {
            assert.equal(lost.status, 400);
            assert.equal(lost.body.error.code, 'payment_unexpected_state');
          }
          const final = await get(payment.id);
          assert.deepEqual(final, won[0]!.body);
          const received = final.amount_received as number;
          assert.deepEqual(await ledger(), { [clearing]: moved(before[clearing]!, { debits_posted: received }), [revenue]: moved(before[revenue]!, { credits_posted: received }) });
          assert.equal((await transfers(payment.id)).length, 2);
          const expected = final.status === 'canceled'
            ? ['payment.created', 'payment.requires_capture', 'payment.canceled']
            : ['payment.created', 'payment.requires_capture', 'payment.captured', 'payment.succeeded'];
          await assertEvents(payment.id, expected);
        }
      });

      test('concurrent confirms of one payment charge it once', async () => {
        const payment = (await pay({ amount: '6.00', confirm: false, payment_method: 'pm_card_visa' })).body.payment;
        const responses = await Promise.all(Array.from({ length: 5 }, () => act(payment.id, 'confirm')));
        assert.equal(responses.filter((r) => r.status === 200).length, 1, responses.map((r) => r.status).join(','));
        for (const lost of responses.filter((r) => r.status !== 200)) assert.equal(lost.body.error.code, 'payment_unexpected_state');
        assert.deepEqual(await transfers(payment.id), [{ flags: 'single', amount_minor: '600', resolves: false }]);
        await assertEvents(payment.id, ['payment.created', 'payment.succeeded']);
      });
    });

    describe("another user's payment", () => {
      test("confirm, capture and cancel of another user's payment (or an unknown id) answer 404 payment_not_found and change nothing", async () => {
        const unconfirmed = (await pay({ amount: 21, confirm: false, payment_method: 'pm_card_visa' }, suite.bob)).body.payment;
        const noMethod = (await pay({ amount: 22, confirm: false }, suite.bob)).body.payment;
        const authorized = await authorize('23.00', suite.bob);
        const ids = [unconfirmed.id, noMethod.id, authorized.id];
        const snapshot = async () => ({
          rows: await Promise.all(ids.map(stored)),
          transfers: await Promise.all(ids.map(transfers)),
          ledger: await ledger(),
          outbox: await outboxCount(),
          paymentMethods: (await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payment_methods`))[0]!.n,
        });
        const before = await snapshot();
        const attempts: [string, 'confirm' | 'capture' | 'cancel', Record<string, unknown> | undefined][] = [];
        for (const id of [...ids, 'pay_doesnotexist0000000000']) {
          attempts.push([id, 'confirm', undefined], [id, 'confirm', { payment_method: 'pm_card_visa' }], [id, 'confirm', { payment_method: 'wallet' }],
            [id, 'capture', undefined], [id, 'capture', { amount_to_capture: '1.00' }], [id, 'cancel', undefined], [id, 'cancel', { cancellation_reason: 'fraudulent' }]);
        }
        for (const [id, action, body] of attempts) {
          const response = await act(id, action, body, suite.alice.token);
          assert.equal(response.status, 404, `${action} ${id} ${JSON.stringify(body)}: ${JSON.stringify(response.body)}`);
          assert.equal(response.body.error.code, 'payment_not_found', `${action} ${id} ${JSON.stringify(body)}`);
          const read = await suite.platform.api.call('GET', `/payments/${id}`, { token: suite.alice.token });
          assert.equal(read.status, 404);
        }
        assert.deepEqual(await snapshot(), before);
        // The owner still can.
        assert.equal((await act(unconfirmed.id, 'confirm', undefined, suite.bob.token)).body.status, 'succeeded');
        assert.equal((await act(authorized.id, 'capture', undefined, suite.bob.token)).body.status, 'succeeded');
        assert.equal((await act(noMethod.id, 'cancel', undefined, suite.bob.token)).body.status, 'canceled');
        // and an admin may act on anyone's payment
        const another = await authorize('1.00', suite.bob);
        assert.equal((await act(another.id, 'cancel', undefined, suite.adminToken)).body.status, 'canceled');
      });
    });

    describe('payers followed from user events', () => {
      const publish = (event: EventEnvelope) => suite.platform.embedded!.services.payments.runtime.transport.publish(event);
      const payer = async (userId: number) => (await queryRows<{ status: string; as_of: string }>(suite.db, sql`select status, as_of::text from payers where user_id = ${String(userId)}`))[0];
      const payerBecomes = (userId: number, status: string) => eventually(async () => ((await payer(userId))?.status === status ? true : undefined));
      const handled = (event: EventEnvelope) => eventually(async () => (
        (await queryRows(suite.db, sql`select 1 from inbox where consumer = 'payments' and event_id = ${event.id}`)).length === 1 ? true : undefined));
      /** Auth ended the user's tokens on user.disabled, up to the end of that second: a new sign-in after it. */
      const signInAgain = async (user: { username: string; password: string }) => {
        await new Promise((resolve) => setTimeout(resolve, 1_010 - (Date.now() % 1_000)));
        return suite.platform.api.login(user.username, user.password);
      };
      const paymentsOf = async (userId: number) => Number((await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payments where user_id = ${String(userId)}`))[0]!.n);

      test('user.disabled refuses new payments and confirmations with 403 user_disabled, storing nothing; user.enabled allows them again', async () => {
        const carol = await suite.platform.api.signUp();
        assert.equal((await pay({ amount: 1 }, carol)).status, 200);
        const pending = (await pay({ amount: 2, confirm: false, payment_method: 'pm_card_visa' }, carol)).body.payment;
        await publish(newEvent('user.disabled', { user_id: carol.id }, undefined));
        await payerBecomes(carol.id, 'disabled');
        const before = { payments: await paymentsOf(carol.id), outbox: await outboxCount() };
        // Auth hears of it too, and its revocation reaches payments on its own path (a broadcast,
        // not the payer event awaited above): carol's own token is soon refused outright, and until
        // then it meets the payer's 403; an admin is told why.
        await eventually(async () => {
          const own = await suite.platform.api.call('POST', '/payments', { token: carol.token, json: { amount: 1, user_id: carol.id } });
          assert.ok(own.status === 401 || (own.status === 403 && own.body.error.code === 'user_disabled'), JSON.stringify(own.body));
          return own.status === 401 ? true : undefined;
        });
        for (const token of [suite.adminToken]) {
          const refused = await suite.platform.api.call('POST', '/payments', { token, json: { amount: 1, user_id: carol.id } });
          assert.equal(refused.status, 403, JSON.stringify(refused.body));
          assert.equal(refused.body.error.code, 'user_disabled');
          assert.equal(refused.body.error.param, 'user_id');
          const confirm = await act(pending.id, 'confirm', undefined, token);
          assert.equal(confirm.status, 403, JSON.stringify(confirm.body));
          assert.equal(confirm.body.error.code, 'user_disabled');
        }
        assert.deepEqual({ payments: await paymentsOf(carol.id), outbox: await outboxCount() }, before);
        assert.equal((await get(pending.id)).status, 'requires_confirmation');

        await publish(newEvent('user.enabled', { user_id: carol.id }, undefined));
        await payerBecomes(carol.id, 'active');
        const again = { ...carol, token: await signInAgain(carol) };
        assert.equal((await pay({ amount: 1 }, again)).status, 200);
        assert.equal((await act(pending.id, 'confirm', undefined, again.token)).body.status, 'succeeded');
      });

      test('user.deleted refuses payments with 404 user_not_found, and a later user.enabled does not bring the user back', async () => {
        const dave = await suite.platform.api.signUp();
        assert.equal((await pay({ amount: 1 }, dave)).status, 200);
        await publish(newEvent('user.deleted', { user_id: dave.id }, undefined));
        await payerBecomes(dave.id, 'deleted');
        const before = await paymentsOf(dave.id);
        const refused = await suite.platform.api.call('POST', '/payments', { token: suite.adminToken, json: { amount: 1, user_id: dave.id } });
        assert.equal(refused.status, 404, JSON.stringify(refused.body));
        assert.equal(refused.body.error.code, 'user_not_found');
        assert.equal(refused.body.error.param, 'user_id');

        const enabled = newEvent('user.enabled', { user_id: dave.id }, undefined);
        await publish(enabled);
        await handled(enabled);
        assert.equal((await payer(dave.id))?.status, 'deleted');
        const still = await suite.platform.api.call('POST', '/payments', { token: suite.adminToken, json: { amount: 1, user_id: dave.id } });
        assert.equal(still.status, 404);
        assert.equal(still.body.error.code, 'user_not_found');
        assert.equal(await paymentsOf(dave.id), before);
      });

      test('a redelivered user event changes nothing: it is recorded once and an old event does not undo a newer one', async () => {
        const erin = await suite.platform.api.signUp();
        const disabled = newEvent('user.disabled', { user_id: erin.id }, undefined);
        await publish(disabled);
        await payerBecomes(erin.id, 'disabled');
        const afterDisabled = await payer(erin.id);
        await publish(disabled);
        await handled(disabled);
        assert.deepEqual(await payer(erin.id), afterDisabled);

        const enabled = newEvent('user.enabled', { user_id: erin.id }, undefined, new Date(Date.parse(disabled.occurredAt) + 1000));
        await publish(enabled);
        await payerBecomes(erin.id, 'active');
        const afterEnabled = await payer(erin.id);
        // The disabling event again, late: still active, still payable.
        await publish(disabled);
        await publish(enabled);
        assert.deepEqual(await payer(erin.id), afterEnabled);
        const [inbox] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from inbox where consumer = 'payments' and event_id in (${disabled.id}, ${enabled.id})`);
        assert.equal(inbox!.n, '2');
        assert.equal((await pay({ amount: 1 }, { ...erin, token: await signInAgain(erin) })).status, 200);
      });
    });

    test('the ledger invariants hold after every scenario above', async () => {
      await assertInvariantsOverScenarios(suite.db);
      const [pending] = await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payments where status = 'requires_capture'`);
      // Every authorization left open still has its whole amount pending in the ledger.
      const [held] = await queryRows<{ capturable: string | null; pending: string }>(suite.db, sql`select
        (select sum(amount_capturable)::text from payments where status = 'requires_capture' and payment_method_type = 'card') as capturable,
        (select debits_pending::text from ledger_accounts where code = ${clearing}) as pending`);
      assert.ok(Number(pending!.n) >= 1);
      assert.equal(held!.pending, held!.capturable ?? '0');
    });
  });
}
