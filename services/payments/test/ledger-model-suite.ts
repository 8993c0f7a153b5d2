// The model-based audit of the ledger, in the spirit of TigerBeetle's: a seeded pseudo-random
// workload of thousands of operations (card payments, authorisations, full and partial captures,
// cancels, refunds, top-ups, wallet payments, declines, 3-D Secure, created-then-confirmed payments,
// Idempotency-Key replays and invalid requests) goes through the
// public HTTP API, and an independent in-memory model, written from the money rules and not from
// the service's code, predicts every answer: the HTTP status and error, the payment's amounts and
// status, and the balances (posted and pending, debits and credits) of every account it touches.
// After each step the response, the payment row and the touched accounts are compared with the
// model; every CHECK_EVERY steps and at the end the ledger invariants must hold and every account,
// every payment, the transfers and the wallets must equal the model's.
//
// The workload (ledger-workload.ts), the model and its predictions (ledger-model.ts) and the
// auditor that compares the service with the model (ledger-auditor.ts) sit beside this file. It
// runs on PGlite (ledger-model.test.ts) and on PostgreSQL (ledger-model-postgres.test.ts), one file
// each so that the two audits run side by side.
//
// Replay a failure with its seed: LEDGER_MODEL_SEED=<seed> npm test -- services/payments/test/ledger-model.test.ts
// (LEDGER_MODEL_SEED=random picks one; LEDGER_MODEL_STEPS changes the number of operations.)
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestPlatform, type Backend, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { type PaymentDbRow, accountRows, audit, compareAccounts, paymentRowColumns, paymentRowSummary, responsePaymentId, responseSummary } from './ledger-auditor.ts';
import { type Op, Random, type RequestStyle, type SentRequest, chooseOp } from './ledger-workload.ts';
import { type Currency, Model, currencies, decimal, methodJson, modelSummary, predict } from './ledger-model.ts';

const DEFAULT_SEED = 20_240_611;
const seedSetting = process.env.LEDGER_MODEL_SEED;
const SEED = seedSetting === undefined || seedSetting === '' ? DEFAULT_SEED : seedSetting === 'random' ? randomInt(2 ** 31) : Number(seedSetting);
if (!Number.isSafeInteger(SEED) || SEED < 0 || SEED >= 2 ** 32) throw new Error(`LEDGER_MODEL_SEED must be an integer from 0 to 2^32-1 or "random", not ${seedSetting}`);
const STEPS = Number(process.env.LEDGER_MODEL_STEPS ?? 2_000);
if (!Number.isSafeInteger(STEPS) || STEPS < 1) throw new Error(`LEDGER_MODEL_STEPS must be a positive integer, not ${process.env.LEDGER_MODEL_STEPS}`);
const CHECK_EVERY = 200;
const USER_COUNT = 4;

/** The audit on one backend, as a describe of the calling test file. */
export function ledgerModelSuite(backend: Backend): void {
  describe(`ledger model audit (${backend})`, () => {
    let platform: TestPlatform;
    let db: Db;
    let adminToken: string;
    const tokens = new Map<number, string>();
    let userIds: number[] = [];

    before(async () => {
      platform = await startTestPlatform(backend);
      db = platform.embedded!.services.payments.runtime.database.db;
      adminToken = await platform.api.adminToken();
      for (let i = 0; i < USER_COUNT; i++) {
        const user = await platform.api.signUp();
        tokens.set(user.id, user.token);
      }
      userIds = [...tokens.keys()];
    });
    after(async () => {
      await platform?.stop();
    });

    const tokenOf = (actor: number | 'admin') => (actor === 'admin' ? adminToken : tokens.get(actor)!);

    /** A JSON body whose amount field is sent as JSON number text (exact) or as a decimal string. */
    const withAmount = (fields: Record<string, unknown>, name: string, minor: number | null, currency: Currency, asNumber: boolean): string => {
      if (minor === null) return JSON.stringify(fields);
      const text = decimal(minor, currency);
      if (!asNumber) return JSON.stringify({ [name]: text, ...fields });
      const rest = JSON.stringify(fields).slice(1, -1);
      return `{"${name}": ${text}${rest === '' ? '' : `, ${rest}`}}`;
    };
    const currencyField = (style: RequestStyle) => (style.currencyText === null ? {} : { currency: style.currencyText });

    /** The request an operation sends (a replay is handled by the loop). */
    function requestFor(op: Exclude<Op, { kind: 'replay' }>, model: Model): { path: string; token: string; json: string } {
      switch (op.kind) {
        case 'card':
        case 'wallet_pay': {
          const method = op.kind === 'wallet_pay' ? 'wallet' : op.method;
          const fields: Record<string, unknown> = {
            user_id: op.user,
            ...currencyField(op),
            ...(method === 'default' || method === 'none' ? {} : { payment_method: methodJson(method) }),
            ...(op.capture === 'automatic' && !op.captureField ? {} : { capture_method: op.capture }),
            ...(op.confirm ? {} : { confirm: false }),
          };
          return { path: '/payments', token: op.admin ? adminToken : tokens.get(op.user)!, json: withAmount(fields, 'amount', op.amount, op.currency, op.asNumber) };
        }
        case 'top_up': {
          const fields = { ...currencyField(op), payment_method: methodJson(op.method), ...(op.admin ? { user_id: op.user } : {}) };
          return { path: '/wallet/top-ups', token: op.admin ? adminToken : tokens.get(op.user)!, json: withAmount(fields, 'amount', op.amount, op.currency, op.asNumber) };
        }
        case 'capture': {
          const currency = model.payments.get(op.payment)!.currency;
          return { path: `/payments/${op.payment}/capture`, token: tokenOf(op.actor), json: withAmount({}, 'amount_to_capture', op.amount, currency, op.asNumber) };
        }
        case 'cancel':
          return { path: `/payments/${op.payment}/cancel`, token: tokenOf(op.actor), json: JSON.stringify(op.reason === null ? {} : { cancellation_reason: op.reason }) };
        case 'refund': {
          const currency = model.payments.get(op.payment)!.currency;
          return { path: `/payments/${op.payment}/refunds`, token: adminToken, json: withAmount(op.reason === null ? {} : { reason: op.reason }, 'amount', op.amount, currency, op.asNumber) };
        }
        case 'refund_by_user':
          return { path: `/payments/${op.payment}/refunds`, token: tokenOf(op.actor), json: '{}' };
        case 'confirm':
          return { path: `/payments/${op.payment}/confirm`, token: tokenOf(op.actor), json: JSON.stringify(op.method === null ? {} : { payment_method: methodJson(op.method) }) };
      }
    }

    test('every response, payment and touched account equals an independent model\'s, step after step, and the ledger invariants hold throughout', async (t) => {
      const rng = new Random(SEED);
      const model = new Model();
      const replay = `replay with LEDGER_MODEL_SEED=${SEED} (backend ${backend})`;
      t.diagnostic(`ledger model: seed ${SEED}, ${STEPS} operations, ${USER_COUNT} users, ${currencies.join(' and ')} (${replay})`);
      const started = performance.now();
      const counts = new Map<string, number>();

      const sent: SentRequest[] = [];
      const sentByStep = new Map<number, SentRequest>();
      for (let step = 1; step <= STEPS; step++) {
        const op = chooseOp(rng, model, userIds, sent);
        const where = `seed ${SEED}, step ${step}/${STEPS}, operation ${JSON.stringify(op)}; ${replay}`;

        if (op.kind === 'replay') {
          // Stripe's idempotency: the first answer again, marked as a replay, and nothing moves.
          const first = sentByStep.get(op.step)!;
          const response = await platform.api.call('POST', first.path, { token: first.token, json: first.json, headers: { 'idempotency-key': first.key } });
          counts.set(`replay:${response.status}`, (counts.get(`replay:${response.status}`) ?? 0) + 1);
          assert.deepEqual(
            { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: response.body },
            { status: first.status, replayed: 'true', body: first.body },
            `${where}: the replay of step ${op.step} (${JSON.stringify(first.op)}) differs from its first answer`,
          );
          compareAccounts(model, first.touched, await accountRows(db, first.touched), where);
          const [row] = await queryRows<{ n: string }>(db, sql`select count(*)::text as n from payments`);
          assert.equal(Number(row!.n), model.payments.size, `${where}: a replay creates no payment`);
          if (step % CHECK_EVERY === 0 || step === STEPS) await audit({ db, api: platform.api, adminToken, userIds }, model, `${where} (full audit)`);
          continue;
        }

        const keyed = op.kind !== 'refund_by_user' && rng.chance(0.3);
        const key = `model-${SEED}-${step}`;
        const at = keyed ? `${where} (sent with Idempotency-Key ${key})` : where;
        const request = requestFor(op, model);
        const prediction = predict(model, op);
        const response = await platform.api.call('POST', request.path, { token: request.token, json: request.json, headers: keyed ? { 'idempotency-key': key } : {} });
        const outcome = `${op.kind}:${response.status}${response.body?.error ? `:${response.body.error.code}` : ''}`;
        counts.set(outcome, (counts.get(outcome) ?? 0) + 1);

        assert.deepEqual(responseSummary(op, response), prediction.response, `${at}: the response differs from the model's (body ${JSON.stringify(response.body)})`);

        const p = prediction.payment;
        if (p !== undefined) {
          const id = responsePaymentId(response);
          if (prediction.isNew) {
            assert.ok(typeof id === 'string' && !model.payments.has(id), `${at}: a new payment id in the response`);
            p.id = id;
            model.add(p);
          } else if (id !== undefined) {
            assert.equal(id, p.id, `${at}: the response shows the payment acted on`);
          }
          const [row] = await queryRows<PaymentDbRow>(db, sql`select ${paymentRowColumns} from payments where id = ${p.id}`);
          assert.ok(row !== undefined, `${at}: payment ${p.id} is stored`);
          assert.deepEqual(paymentRowSummary(row), modelSummary(p), `${at}: the stored payment differs from the model's`);
        }
        compareAccounts(model, prediction.touched, await accountRows(db, prediction.touched), at);

        if (keyed) {
          const entry = { step, op, ...request, key, status: response.status, body: response.body, touched: prediction.touched };
          sent.push(entry);
          sentByStep.set(step, entry);
        }
        if (step % CHECK_EVERY === 0 || step === STEPS) await audit({ db, api: platform.api, adminToken, userIds }, model, `${at} (full audit)`);
      }

      const seconds = (performance.now() - started) / 1000;
      t.diagnostic(`ledger model: ${STEPS} operations on ${backend} in ${seconds.toFixed(1)} s (${((seconds * 1000) / STEPS).toFixed(1)} ms each), ${model.payments.size} payments`);
      t.diagnostic(`outcomes: ${[...counts].sort().map(([k, n]) => `${k}=${n}`).join(' ')}`);
      // The workload reached what it is meant to: successes and refusals of each kind.
      for (const expected of ['card:200', 'card:402:card_declined', 'wallet_pay:200', 'wallet_pay:402:balance_insufficient', 'capture:200', 'capture:400:amount_too_large',
        'capture:400:payment_unexpected_state', 'cancel:200', 'cancel:400:payment_unexpected_state', 'refund:200', 'refund:400:amount_too_large', 'top_up:200', 'confirm:200', 'replay:200', 'replay:402']) {
        if (STEPS >= 2_000) assert.ok((counts.get(expected) ?? 0) > 0, `the workload never produced ${expected} (seed ${SEED})`);
      }
    });
  });
}
