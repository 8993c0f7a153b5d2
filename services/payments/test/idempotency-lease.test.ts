// Idempotency-Key claims under a lease (issue 12): the claim of a request whose process died is
// served again by a retry as soon as its lease lapses, within the wait a retry gives it, never 409;
// a live request, however slow, renews its lease and is never taken over, so it never runs twice.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, eventually, suitePlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { parseJsonWithExactAmounts } from '../src/money/json-with-exact-amounts.ts';
import { RecordingCardProcessor } from './recording-card-processor.ts';

for (const backend of backends()) {
  describe(`Idempotency-Key leases (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice'] });
    const ctx = () => suite.platform.service('payments').context;

    const post = async (path: string, body: string, key: string) => {
      const response = await fetch(`${suite.platform.gatewayUrl}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${suite.alice.token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body,
        signal: AbortSignal.timeout(30_000),
      });
      return { status: response.status, text: await response.text(), replayed: response.headers.get('idempotent-replayed'), retryAfter: response.headers.get('retry-after') };
    };
    const paymentsOf = async () => Number((await queryRows<{ n: string }>(suite.db, sql`select count(*)::text as n from payments where user_id = ${String(suite.alice.id)}`))[0]!.n);
    const metric = async (name: string) => {
      const text = await (await fetch(suite.platform.embedded!.services.payments.metricsUrl, { signal: AbortSignal.timeout(5_000) })).text();
      return text.split('\n').filter((line) => line.startsWith(name)).reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    };

    test('a key whose request died (its claim left behind with a live lease, as a kill -9 leaves it) is served by a retry once the lease lapses, not answered 409', async () => {
      const { idempotencyLeaseMs, idempotencyWaitMs } = ctx().config;
      // The rule this checks: a retry waiting for the key outlasts the dead request's lease.
      assert.ok(idempotencyLeaseMs < idempotencyWaitMs, `lease ${idempotencyLeaseMs} ms, wait ${idempotencyWaitMs} ms`);
      const key = randomUUID();
      const body = `{"amount": 4.56, "user_id": ${suite.alice.id}}`;
      const fingerprint = ctx().idempotency.fingerprint('POST', '/payments', parseJsonWithExactAmounts(body));
      // The dead request's claim, renewed just before the process was killed: a whole lease left.
      await suite.db.execute(sql`insert into idempotency_keys (scope, key, request_fingerprint, state, claim_token, lease_expires_at)
        values (${`user:${suite.alice.id}`}, ${key}, ${fingerprint}, 'in_flight', ${randomUUID()}, now() + make_interval(secs => ${idempotencyLeaseMs / 1000}))`);
      const takeovers = await metric('idempotency_lease_takeovers_total');
      const before = await paymentsOf();
      const retry = await post('/payments', body, key);
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.replayed, null);
      assert.equal(await paymentsOf(), before + 1);
      assert.equal(await metric('idempotency_lease_takeovers_total'), takeovers + 1);
      assert.deepEqual(await post('/payments', body, key), { ...retry, replayed: 'true' });
    });

    test('a slow live request (its processor call outlasting the lease) keeps its key by renewing the lease: a duplicate gets 409, the processor is called once, and one payment is made', async () => {
      const { processor, restore } = RecordingCardProcessor.install(ctx());
      try {
        const key = randomUUID();
        const body = `{"amount": 7.89, "user_id": ${suite.alice.id}}`;
        const before = await paymentsOf();
        let open!: () => void;
        const arrived = processor.holdNext('authorize', new Promise<void>((resolve) => (open = resolve)));
        const first = post('/payments', body, key);
        await arrived;
        const [claim] = await queryRows<{ lease: string }>(suite.db, sql`select lease_expires_at::text as lease from idempotency_keys where key = ${key}`);
        // Wait until the lease the request first took has run out and been renewed past its end.
        await eventually(async () => {
          const [row] = await queryRows<{ renewed: boolean }>(suite.db, sql`
            select now() > ${claim!.lease}::timestamptz and lease_expires_at > ${claim!.lease}::timestamptz as renewed from idempotency_keys where key = ${key}`);
          return row!.renewed ? true : undefined;
        }, { timeoutMs: 20_000, intervalMs: 100 });
        const duplicate = await post('/payments', body, key);
        assert.equal(duplicate.status, 409, duplicate.text);
        assert.equal(JSON.parse(duplicate.text).error.code, 'idempotency_key_in_use');
        assert.deepEqual(processor.calls.filter((c) => c.operation === 'authorize').length, 1, 'the duplicate did not run the request again');
        open();
        const done = await first;
        assert.equal(done.status, 200, done.text);
        assert.equal(await paymentsOf(), before + 1);
        assert.deepEqual(await post('/payments', body, key), { ...done, replayed: 'true' });
        assert.equal(processor.calls.filter((c) => c.operation === 'authorize').length, 1);
        assert.deepEqual(processor.violations, []);
      } finally {
        restore();
      }
    });
    test('a request whose claim was taken over while it ran (its lease lapsed, as a stalled process lets it) is answered 409 idempotency_key_in_use with Retry-After, not 500, and the retry\'s outcome is the only one', async () => {
      const { processor, restore } = RecordingCardProcessor.install(ctx());
      try {
        const key = randomUUID();
        const body = `{"amount": 3.21, "user_id": ${suite.alice.id}}`;
        const before = await paymentsOf();
        let open!: () => void;
        const arrived = processor.holdNext('authorize', new Promise<void>((resolve) => (open = resolve)));
        const first = post('/payments', body, key);
        await arrived;
        // What a retry finds after the first request stalled past its lease: the claim lapsed.
        await suite.db.execute(sql`update idempotency_keys set claim_token = ${randomUUID()}, lease_expires_at = now() - interval '1 second' where key = ${key}`);
        const retry = await post('/payments', body, key);
        assert.equal(retry.status, 200, retry.text);
        open();
        const stalled = await first;
        assert.equal(stalled.status, 409, stalled.text);
        assert.equal(JSON.parse(stalled.text).error.code, 'idempotency_key_in_use');
        assert.equal(stalled.retryAfter, '1');
        assert.equal(await paymentsOf(), before + 1);
        assert.deepEqual(await post('/payments', body, key), { ...retry, replayed: 'true' });
        assert.deepEqual(processor.violations, []);
      } finally {
        restore();
      }
    });
  });
}
