// Crashes between the processor's answer and the commit (issue 12), for every request that moves
// money at the processor: card payments with automatic and manual capture, confirm, capture,
// top-ups, refunds, and the void after a cancel. The processor acts and its answer never reaches
// the service (RecordingCardProcessor), then the dead request's leases lapse, as a kill -9 leaves
// them. The client's retry with the same Idempotency-Key reaches the same processor operation:
// exactly one charge and one payment. An attempt nobody retries is settled by the reconciler: an
// authorisation voided, a charge refunded, a capture completed, a void made. The dead request,
// let go at the end, changes nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { backends, suitePlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { checkLedgerInvariants } from '../src/ledger/check-invariants.ts';
import { reconcileAttempts } from '../src/payments/reconcile-attempts.ts';
import { resumePendingRefunds } from '../src/refunds/create-refund.ts';
import { RecordingCardProcessor, type Operation } from './recording-card-processor.ts';

type Json = Record<string, any>;
type Response = { status: number; body: Json };

/** A request that moves money at the processor, and what one execution of it must leave behind. */
interface MoneyRequest {
  readonly name: string;
  /** The processor call the process dies after. */
  readonly operation: Operation;
  /** The request, with whatever it acts on made beforehand; `admin` sends it as the admin. */
  setup(): Promise<{ path: string; body: Json; admin?: boolean }>;
  /**
   * Checks what one execution left: the response, the authorisations the processor gave meanwhile
   * (`fresh`), and the database. Returns the authorisation it concerns.
   */
  executedOnce(response: Response, fresh: string[]): Promise<void>;
}

for (const backend of backends()) {
  describe(`payments after a crash between the processor's answer and the commit (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice'] });
    const ctx = () => suite.platform.service('payments').context;
    let processor: RecordingCardProcessor;
    let restore: () => void;
    before(() => void ({ processor, restore } = RecordingCardProcessor.install(ctx())));
    after(() => restore());

    const send = async (path: string, body: Json, options: { key?: string; admin?: boolean } = {}): Promise<Response> => {
      const headers: Record<string, string> = { authorization: `Bearer ${options.admin === true ? suite.adminToken : suite.alice.token}`, 'content-type': 'application/json' };
      if (options.key !== undefined) headers['idempotency-key'] = options.key;
      const response = await fetch(`${suite.platform.gatewayUrl}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(60_000) });
      return { status: response.status, body: await response.json() as Json };
    };
    const ok = async (path: string, body: Json, admin = false) => {
      const response = await send(path, body, { admin });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      return response.body;
    };
    const pay = async (body: Json) => (await ok('/payments', { user_id: suite.alice.id, payment_method: 'pm_card_visa', ...body })).payment as Json;
    const one = async <T>(query: ReturnType<typeof sql>) => (await queryRows<T>(suite.db, query))[0];
    const payment = (id: string) => one<{ status: string; processor_authorization: string | null; amount_received: string }>(sql`
      select status, processor_authorization, amount_received::text from payments where id = ${id}`);
    const wallet = async () => BigInt((await one<{ balance: string }>(sql`
      select coalesce(sum(credits_posted - debits_posted - debits_pending), 0)::text as balance from ledger_accounts where code = ${`user:${suite.alice.id}:wallet:USD`}`))!.balance);
    const counts = () => one<Json>(sql`select (select count(*) from payments)::int as payments, (select count(*) from refunds)::int as refunds,
      (select count(*) from wallet_top_ups)::int as top_ups, (select count(*) from ledger_transfers)::int as transfers, (select count(*) from processor_attempts)::int as attempts`);
    /** What a kill -9 leaves once the leases its process was renewing have run out. */
    const leasesLapse = async () => {
      await suite.db.execute(sql`update idempotency_keys set lease_expires_at = now() - interval '1 second' where state = 'in_flight'`);
      await suite.db.execute(sql`update processor_attempts set lease_expires_at = now() - interval '1 second' where state = 'started'`);
    };
    const metric = async (name: string, labels: string) => {
      const text = await (await fetch(suite.platform.embedded!.services.payments.metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    /** Fires `path` and waits until the processor has done `operation` for it, its answer lost. */
    const crashDuring = async (operation: Operation, path: string, body: Json, options: { key?: string; admin?: boolean }, kind: 'after' | 'before' = 'after') => {
      const crashed = kind === 'after' ? processor.crashAfterNext(operation) : processor.crashBeforeNext(operation);
      const dead = send(path, body, options);
      await crashed;
      // Wrapped: awaiting a promise that resolves to `dead` would wait for the dead request itself.
      return { dead };
    };
    /**
     * Lets the dead request end: it changes nothing, and unless what it did had committed before its
     * process died (a cancel), it fails: a request whose claim and attempt were taken over cannot also commit.
     */
    const buryDead = async (dead: Promise<Response>, committed = false) => {
      const settled = { counts: await counts(), charges: JSON.stringify([...processor.charges.values()], (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) };
      processor.killFrozen();
      const response = await dead;
      // With an Idempotency-Key the retry took over, the dead request's answer says so (409, retry for
      // the outcome); without one it fails outright.
      const takenOver = response.status === 409 && (response.body as { error?: { code?: string } }).error?.code === 'idempotency_key_in_use';
      if (!committed) assert.ok(response.status >= 500 || takenOver, `the dead request answered ${response.status} ${JSON.stringify(response.body)}`);
      assert.deepEqual(await counts(), settled.counts, 'the dead request changed nothing in the database');
      assert.equal(JSON.stringify([...processor.charges.values()], (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)), settled.charges, 'nor at the processor');
    };
    const freshCharges = (before: Set<string>) => [...processor.charges.keys()].filter((id) => !before.has(id));

    const requests: MoneyRequest[] = [
      {
        name: 'POST /payments (card, automatic capture)',
        operation: 'authorize',
        async setup() {
          return { path: '/payments', body: { amount: '12.34', user_id: suite.alice.id } };
        },
        async executedOnce(response, fresh) {
          assert.equal(response.body.payment.status, 'succeeded');
          assert.equal(fresh.length, 1, 'one authorisation at the processor');
          assert.equal(processor.netCharged(fresh[0]!), 1234n, 'charged once');
          assert.equal((await payment(response.body.payment.id))!.processor_authorization, fresh[0]);
        },
      },
      {
        name: 'POST /payments (card, manual capture)',
        operation: 'authorize',
        async setup() {
          return { path: '/payments', body: { amount: '23.45', user_id: suite.alice.id, capture_method: 'manual' } };
        },
        async executedOnce(response, fresh) {
          assert.equal(response.body.payment.status, 'requires_capture');
          assert.equal(fresh.length, 1, 'one authorisation at the processor');
          assert.ok(processor.holding(fresh[0]!));
          assert.equal((await payment(response.body.payment.id))!.processor_authorization, fresh[0]);
        },
      },
      {
        name: 'POST /payments/:id/confirm',
        operation: 'authorize',
        async setup() {
          const created = await pay({ amount: '34.56', confirm: false });
          return { path: `/payments/${created.id}/confirm`, body: {} };
        },
        async executedOnce(response, fresh) {
          assert.equal(response.body.status, 'succeeded');
          assert.equal(fresh.length, 1, 'one authorisation at the processor');
          assert.equal(processor.netCharged(fresh[0]!), 3456n);
          assert.equal((await payment(response.body.id))!.processor_authorization, fresh[0]);
        },
      },
      {
        name: 'POST /payments/:id/capture',
        operation: 'capture',
        async setup() {
          const authorized = await pay({ amount: '45.67', capture_method: 'manual' });
          return { path: `/payments/${authorized.id}/capture`, body: { amount_to_capture: '40.00' } };
        },
        async executedOnce(response, fresh) {
          assert.equal(response.body.status, 'succeeded');
          assert.equal(response.body.amount_received, 4000);
          assert.deepEqual(fresh, []);
          const { processor_authorization: authorization, amount_received } = (await payment(response.body.id))!;
          assert.equal(amount_received, '4000');
          assert.equal(processor.netCharged(authorization!), 4000n, 'captured once');
        },
      },
      {
        name: 'POST /wallet/top-ups',
        operation: 'authorize',
        async setup() {
          return { path: '/wallet/top-ups', body: { amount: '25.00', payment_method: 'pm_card_visa' } };
        },
        async executedOnce(response, fresh) {
          assert.equal(response.body.status, 'succeeded');
          assert.equal(fresh.length, 1, 'one authorisation at the processor');
          assert.equal(processor.netCharged(fresh[0]!), 2500n);
          const topUp = await one<{ processor_authorization: string }>(sql`select processor_authorization from wallet_top_ups where id = ${response.body.id}`);
          assert.equal(topUp!.processor_authorization, fresh[0]);
        },
      },
      {
        name: 'POST /payments/:id/refunds',
        operation: 'refund',
        async setup() {
          const paid = await pay({ amount: '30.00' });
          return { path: `/payments/${paid.id}/refunds`, body: { amount: '10.00' }, admin: true };
        },
        async executedOnce(response, fresh) {
          assert.equal(response.body.status, 'succeeded');
          assert.deepEqual(fresh, []);
          const refunds = await queryRows<{ id: string; status: string }>(suite.db, sql`select id, status from refunds where payment_id = ${response.body.payment_id}`);
          assert.deepEqual(refunds, [{ id: response.body.id, status: 'succeeded' }], 'one refund');
          const { processor_authorization: authorization } = (await payment(response.body.payment_id))!;
          assert.equal(processor.netCharged(authorization!), 2000n, 'refunded once');
        },
      },
    ];

    describe("the client's retry with the same Idempotency-Key reaches the same processor operation: one charge, one payment", () => {
      for (const request of requests) {
        test(`${request.name}: the retry resumes the dead request's processor operation and records it once`, async () => {
          const { path, body, admin } = await request.setup();
          const key = randomUUID();
          const known = new Set(processor.charges.keys());
          const calls = processor.calls.length;
          const start = await counts();
          const { dead } = await crashDuring(request.operation, path, body, { key, admin });
          await leasesLapse();
          const retry = await send(path, body, { key, admin });
          assert.equal(retry.status, 200, JSON.stringify(retry.body));
          const keys = processor.calls.slice(calls).filter((c) => c.operation === request.operation).map((c) => c.idempotencyKey);
          assert.equal(keys.length, 2);
          assert.equal(keys[1], keys[0], 'the retry called the processor with the same idempotency key');
          await request.executedOnce(retry, freshCharges(known));
          assert.equal((await counts())!.attempts, start!.attempts, 'no attempt left in doubt');
          assert.deepEqual(await send(path, body, { key, admin }), retry, 'later retries replay it');
          await buryDead(dead);
          await request.executedOnce(retry, freshCharges(known));
          assert.deepEqual(processor.violations, []);
          assert.deepEqual(await checkLedgerInvariants(suite.db), []);
        });
      }
    });

    describe('an attempt nobody resumes is settled by the reconciler', () => {
      test('a card payment whose client never retried is refunded at the processor and never recorded; a retry after that is a new payment, charged once', async () => {
        const key = randomUUID();
        const body = { amount: '11.11', user_id: suite.alice.id };
        const known = new Set(processor.charges.keys());
        const start = await counts();
        const refunded = await metric('processor_attempts_reconciled_total', 'operation="authorize",action="refunded"');
        const { dead } = await crashDuring('authorize', '/payments', body, { key });
        const [orphan] = await queryRows<{ target_id: string }>(suite.db, sql`select target_id from processor_attempts where idempotency_key = ${key}`);
        await leasesLapse();
        assert.equal(await reconcileAttempts(ctx(), 0), 1);
        const [abandoned] = freshCharges(known);
        assert.equal(processor.netCharged(abandoned!), 0n, 'the charge was refunded');
        assert.equal(await payment(orphan!.target_id), undefined, 'no payment exists for it');
        assert.deepEqual(await counts(), start);
        assert.equal(await metric('processor_attempts_reconciled_total', 'operation="authorize",action="refunded"'), refunded + 1);
        const retry = await send('/payments', body, { key });
        assert.equal(retry.status, 200, JSON.stringify(retry.body));
        const fresh = freshCharges(known).filter((id) => id !== abandoned);
        assert.equal(fresh.length, 1);
        assert.equal(processor.netCharged(fresh[0]!), 1111n);
        await buryDead(dead);
      });

      test('an authorisation without an Idempotency-Key (nobody can resume it) is voided once its lease and the grace period have passed, and not before', async () => {
        const known = new Set(processor.charges.keys());
        const start = await counts();
        const { dead } = await crashDuring('authorize', '/payments', { amount: '22.22', user_id: suite.alice.id, capture_method: 'manual' }, {});
        assert.equal(await reconcileAttempts(ctx(), 0), 0, 'a live lease is left alone');
        await leasesLapse();
        assert.equal(await reconcileAttempts(ctx(), 3600), 0, 'within the grace period it waits for a retry');
        assert.equal(await reconcileAttempts(ctx(), 0), 1);
        const [abandoned] = freshCharges(known);
        assert.equal(processor.charges.get(abandoned!)!.voided, true, 'the hold was released');
        assert.deepEqual(await counts(), start);
        await buryDead(dead);
      });

      test('a confirm that died is refunded, the payment still awaits confirmation, and confirming it again charges it once', async () => {
        const created = await pay({ amount: '33.33', confirm: false });
        const known = new Set(processor.charges.keys());
        const { dead } = await crashDuring('authorize', `/payments/${created.id}/confirm`, {}, { key: randomUUID() });
        await leasesLapse();
        assert.equal(await reconcileAttempts(ctx(), 0), 1);
        const [abandoned] = freshCharges(known);
        assert.equal(processor.netCharged(abandoned!), 0n);
        assert.equal((await payment(created.id))!.status, 'requires_confirmation');
        const confirmed = await ok(`/payments/${created.id}/confirm`, {});
        assert.equal(confirmed.status, 'succeeded');
        const [charged] = freshCharges(known).filter((id) => id !== abandoned);
        assert.equal(processor.netCharged(charged!), 3333n);
        assert.equal((await payment(created.id))!.processor_authorization, charged);
        await buryDead(dead);
      });

      test('a top-up that died is refunded and never credited', async () => {
        const known = new Set(processor.charges.keys());
        const balance = await wallet();
        const start = await counts();
        const { dead } = await crashDuring('authorize', '/wallet/top-ups', { amount: '44.44', payment_method: 'pm_card_visa' }, { key: randomUUID() });
        await leasesLapse();
        assert.equal(await reconcileAttempts(ctx(), 0), 1);
        const [abandoned] = freshCharges(known);
        assert.equal(processor.netCharged(abandoned!), 0n);
        assert.equal(await wallet(), balance);
        assert.deepEqual(await counts(), start);
        await buryDead(dead);
      });

      test('a capture that died is completed: the processor took the money, so the payment succeeds with it in the ledger', async () => {
        const authorized = await pay({ amount: '55.55', capture_method: 'manual' });
        const captured = await metric('processor_attempts_reconciled_total', 'operation="capture",action="captured"');
        const { dead } = await crashDuring('capture', `/payments/${authorized.id}/capture`, {}, { key: randomUUID() });
        await leasesLapse();
        assert.equal(await reconcileAttempts(ctx(), 0), 1);
        const recorded = (await payment(authorized.id))!;
        assert.equal(recorded.status, 'succeeded');
        assert.equal(recorded.amount_received, '5555');
        assert.equal(processor.netCharged(recorded.processor_authorization!), 5555n, 'captured once');
        assert.equal(await metric('processor_attempts_reconciled_total', 'operation="capture",action="captured"'), captured + 1);
        await buryDead(dead);
      });

      test('a cancel whose process died before releasing the hold at the processor has it released by the reconciler', async () => {
        const authorized = await pay({ amount: '66.66', capture_method: 'manual' });
        const authorization = (await payment(authorized.id))!.processor_authorization!;
        const { dead } = await crashDuring('void', `/payments/${authorized.id}/cancel`, {}, { key: randomUUID() }, 'before');
        assert.equal((await payment(authorized.id))!.status, 'canceled', 'the cancel committed');
        assert.ok(processor.holding(authorization), 'the hold was not released yet');
        await leasesLapse();
        assert.equal(await reconcileAttempts(ctx(), 0), 1);
        assert.equal(processor.charges.get(authorization)!.voided, true);
        await buryDead(dead, true);
      });

      test('a refund that fails with a 500 after the processor refunded keeps its Idempotency-Key: the retry resumes the same refund, never a second one', async () => {
        const paid = await pay({ amount: '88.88' });
        const authorization = (await payment(paid.id))!.processor_authorization!;
        const key = randomUUID();
        const mutable = processor as { refund: RecordingCardProcessor['refund'] };
        const refund = mutable.refund;
        // The processor refunds, then its answer is lost (a timeout after sending): not "unavailable".
        mutable.refund = async (request) => {
          mutable.refund = refund;
          await refund.call(processor, request);
          throw new Error('processor timed out after sending');
        };
        const failed = await send(`/payments/${paid.id}/refunds`, { amount: '8.00' }, { key, admin: true });
        mutable.refund = refund;
        assert.equal(failed.status, 500, JSON.stringify(failed.body));
        assert.equal(processor.netCharged(authorization), 8088n, 'refunded at the processor');
        const retry = await send(`/payments/${paid.id}/refunds`, { amount: '8.00' }, { key, admin: true });
        assert.equal(retry.status, 200, JSON.stringify(retry.body));
        assert.equal(retry.body.status, 'succeeded');
        const refunds = await queryRows<{ id: string }>(suite.db, sql`select id from refunds where payment_id = ${paid.id}`);
        assert.deepEqual(refunds, [{ id: retry.body.id }], 'no second refund');
        assert.equal(processor.netCharged(authorization), 8088n, 'refunded once');
      });

      test('a refund that died is finished by the sweeper with the same processor key, and a retry then answers with that refund', async () => {
        const paid = await pay({ amount: '77.77' });
        const authorization = (await payment(paid.id))!.processor_authorization!;
        const key = randomUUID();
        const { dead } = await crashDuring('refund', `/payments/${paid.id}/refunds`, { amount: '7.00' }, { key, admin: true });
        await leasesLapse();
        assert.equal(await resumePendingRefunds(ctx(), 0), 1);
        assert.equal(processor.netCharged(authorization), 7077n, 'refunded once');
        const retry = await send(`/payments/${paid.id}/refunds`, { amount: '7.00' }, { key, admin: true });
        assert.equal(retry.status, 200, JSON.stringify(retry.body));
        assert.equal(retry.body.status, 'succeeded');
        const refunds = await queryRows<{ id: string }>(suite.db, sql`select id from refunds where payment_id = ${paid.id}`);
        assert.deepEqual(refunds, [{ id: retry.body.id }], 'no second refund');
        assert.equal(processor.netCharged(authorization), 7077n);
        await buryDead(dead);
      });

      test('a capture completed by another reconciler while this one still settles it is never refunded: each settles one attempt at a time and re-checks it and its payment under row locks', async () => {
        const authorized = await pay({ amount: '44.44', capture_method: 'manual' });
        const { dead } = await crashDuring('capture', `/payments/${authorized.id}/capture`, {}, { key: randomUUID() });
        await leasesLapse();
        let open!: () => void;
        const arrived = processor.holdNext('capture', new Promise<void>((resolve) => (open = resolve)));
        const slow = reconcileAttempts(ctx(), 0);
        await arrived;
        // The slow reconciler's hold lapses while the processor keeps it waiting; another takes the
        // attempt over and completes the capture.
        await suite.db.execute(sql`update processor_attempts set lease_expires_at = now() - interval '1 second' where target_id = ${authorized.id}`);
        assert.equal(await reconcileAttempts(ctx(), 0), 1);
        assert.equal((await payment(authorized.id))!.status, 'succeeded');
        open();
        assert.equal(await slow, 0, 'the slow reconciler finds the attempt no longer its own');
        const recorded = (await payment(authorized.id))!;
        assert.equal(recorded.status, 'succeeded');
        assert.equal(recorded.amount_received, '4444');
        assert.equal(processor.netCharged(recorded.processor_authorization!), 4444n, 'captured once, never refunded');
        await buryDead(dead);
      });

      test('a capture the processor keeps refusing is tried PAYMENTS_RECONCILE_MAX_TRIES times, then marked failed with payment.failed; the payment still awaits capture and can be captured again, which clears its last_payment_error', async () => {
        const authorized = await pay({ amount: '33.33', capture_method: 'manual' });
        // The request died before the processor heard of it; the processor then refuses every try.
        const { dead } = await crashDuring('capture', `/payments/${authorized.id}/capture`, {}, { key: randomUUID() }, 'before');
        await leasesLapse();
        const maxTries = 3;
        const mutable = processor as { capture: RecordingCardProcessor['capture'] };
        const capture = mutable.capture;
        let refused = 0;
        mutable.capture = async () => {
          refused++;
          throw new Error('the processor refused the capture: authorization expired');
        };
        try {
          for (let i = 0; i < maxTries + 2; i++) {
            assert.equal(await reconcileAttempts(ctx(), 0, maxTries), 0);
            // The next sweep after the hold lapses.
            await suite.db.execute(sql`update processor_attempts set lease_expires_at = now() - interval '1 second' where target_id = ${authorized.id} and state = 'abandoned'`);
          }
        } finally {
          mutable.capture = capture;
        }
        assert.equal(refused, maxTries, 'tried exactly PAYMENTS_RECONCILE_MAX_TRIES times');
        const [attempt] = await queryRows<{ state: string; tries: number; last_error: string }>(suite.db, sql`select state, tries, last_error from processor_attempts where target_id = ${authorized.id}`);
        assert.equal(attempt!.state, 'failed');
        assert.equal(Number(attempt!.tries), maxTries);
        assert.match(attempt!.last_error, /authorization expired/);
        const [row] = await queryRows<{ status: string; code: string }>(suite.db, sql`select status, last_payment_error->>'code' as code from payments where id = ${authorized.id}`);
        assert.deepEqual({ ...row }, { status: 'requires_capture', code: 'capture_failed' });
        const events = await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from outbox where subject = 'payment.failed' and payload->>'payment_id' = ${authorized.id} and payload->>'failure_code' = 'capture_failed'`);
        assert.equal(events[0]!.n, 1, 'payment.failed emitted once');
        await buryDead(dead);
        // The failed attempt no longer blocks the payment: the merchant captures again.
        const again = await send(`/payments/${authorized.id}/capture`, {}, { key: randomUUID() });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.status ?? again.body.payment?.status, 'succeeded');
        // As Stripe does, a later success clears the error of the attempt before it.
        assert.equal((again.body.payment ?? again.body).last_payment_error, null);
      });

      test('nothing is left in doubt, the processor was used within its contract, and the ledger invariants hold', async () => {
        // Failed attempts are records, not doubts.
        assert.deepEqual(await queryRows(suite.db, sql`select id, operation, state from processor_attempts where state <> 'failed'`), []);
        assert.deepEqual(processor.violations, []);
        assert.deepEqual(await checkLedgerInvariants(suite.db), []);
      });
    });
  });
}
