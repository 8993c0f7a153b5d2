// The fault runner's audit (scripts/faults/audit.ts) on crafted data sets in the services' real
// schemas (their migrations, on PGlite, and on PostgreSQL when TEST_DATABASE_URL is given): each
// rule passes a clean scenario and catches its own kind of damage.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { backends, testDatabaseUrl } from '@paymesh/app/testing';
import { dropDatabase, ensureDatabase } from '@paymesh/platform/db/ensure-database';
import { openDatabase, sql, type Database } from '@paymesh/platform/db/open-database';
import { createLogger } from '@paymesh/platform/logger';
import { auditScenario, readBaseline, type AuditBaseline, type AuditInput } from '../scripts/faults/audit.ts';
import { newLoadRecord, type KeyOutcome, type LoadRecord } from '../scripts/faults/load-client.ts';

const root = join(import.meta.dirname, '..');
const logger = createLogger('test', 'silent');
const migrations = (service: string) => [{ scope: 'platform', dir: join(root, 'packages/platform/migrations') }, { scope: service, dir: join(root, 'services', service, 'migrations') }];

for (const backend of backends()) {
  describe(`the fault runner's audit (${backend})`, () => {
    let payments: Database;
    let notifications: Database;
    const created: string[] = [];
    const open = async (service: string) => {
      if (backend === 'pglite') return openDatabase({ url: undefined, dataDir: 'memory://', migrations: migrations(service), logger });
      const name = `faults_audit_${service}_${randomUUID().slice(0, 8)}`;
      created.push(name);
      return openDatabase({ url: await ensureDatabase(testDatabaseUrl!, name), dataDir: 'unused', migrations: migrations(service), logger, poolSize: 2 });
    };
    before(async () => {
      payments = await open('payments');
      notifications = await open('notifications');
      const accounts = sql`insert into ledger_accounts (code, currency) values ('system:processor_clearing:USD', 'USD'), ('system:platform_revenue:USD', 'USD')`;
      await payments.db.execute(accounts);
    });
    after(async () => {
      await payments.close();
      await notifications.close();
      for (const name of created) await dropDatabase(testDatabaseUrl!, name);
    });

    // Each test starts after the previous one's rows, as each scenario does in a run.
    let baseline: AuditBaseline;
    let record: LoadRecord;
    beforeEach(async () => {
      baseline = await readBaseline(payments.db, notifications.db);
      record = newLoadRecord();
    });

    const now = Date.now();
    /** A request the load client made, acknowledged unless told otherwise. */
    function requested(key: string, options: { userId?: string; amountMinor?: bigint; acked?: boolean } = {}): KeyOutcome {
      const outcome: KeyOutcome = { key, userId: options.userId ?? '7', amountMinor: options.amountMinor ?? 250n, attempts: 1 };
      if (options.acked !== false) {
        outcome.paymentId = `pay_${key}`;
        outcome.ackedAt = now;
        record.acked++;
      }
      record.keys.set(key, outcome);
      return outcome;
    }
    /** A succeeded card payment as the service commits it: its row and its balanced transfer. */
    async function stored(id: string, description: string | null, options: { userId?: string; amountMinor?: bigint; createdAt?: Date } = {}): Promise<void> {
      const amount = options.amountMinor ?? 250n;
      const at = (options.createdAt ?? new Date(now)).toISOString();
      await payments.db.transaction(async (tx) => {
        await tx.execute(sql`insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, payment_id, kind)
          select ${randomUUID()}, d.id, c.id, ${amount}, 'USD', ${id}, 'payment' from ledger_accounts d, ledger_accounts c
          where d.code = 'system:processor_clearing:USD' and c.code = 'system:platform_revenue:USD'`);
        await tx.execute(sql`update ledger_accounts set debits_posted = debits_posted + ${amount} where code = 'system:processor_clearing:USD'`);
        await tx.execute(sql`update ledger_accounts set credits_posted = credits_posted + ${amount} where code = 'system:platform_revenue:USD'`);
        await tx.execute(sql`insert into payments (id, user_id, amount_minor, currency, status, description, created_by, amount_received, created_at)
          values (${id}, ${options.userId ?? '7'}, ${amount}, 'USD', 'succeeded', ${description}, 'user:7', ${amount}, ${at})`);
      });
    }
    async function notified(paymentId: string, options: { recipientId?: string; type?: string; sentAt?: Date } = {}): Promise<void> {
      await notifications.db.execute(sql`insert into notifications (recipient_id, type, message, data, sent_at)
        values (${options.recipientId ?? '7'}, ${options.type ?? 'payment.succeeded'}, 'Payment received.', ${JSON.stringify({ payment_id: paymentId })}::jsonb, ${(options.sentAt ?? new Date(now + 200)).toISOString()})`);
    }
    /** A key acknowledged, stored once and notified once: what every key of a clean scenario is. */
    async function clean(key: string): Promise<void> {
      requested(key);
      await stored(`pay_${key}`, key);
      await notified(`pay_${key}`);
    }
    const audit = (overrides: Partial<AuditInput> = {}) => {
      const succeeded = [...record.keys.values()].filter((o) => o.paymentId !== undefined).length;
      return auditScenario({
        payments: payments.db, notifications: notifications.db, baseline, record,
        unreadBefore: new Map([['7', 3]]), unreadAfter: new Map([['7', 3 + succeeded]]), recoveredAt: now,
        ...overrides,
      });
    };

    test('a scenario whose every acknowledged payment is stored once, balanced and notified once passes', async () => {
      for (const key of ['c1', 'c2', 'c3']) await clean(key);
      const result = await audit();
      assert.deepEqual(result.failures, []);
      assert.deepEqual([result.payments, result.acked, result.lost, result.dup, result.phantom, result.ledgerViolations], [3, 3, 0, 0, 0, 0]);
    });

    test('an acknowledged payment missing from the database is lost, and a key never acknowledged fails', async () => {
      await clean('l1');
      requested('l2'); // acknowledged, never stored
      requested('l3', { acked: false });
      const result = await audit({ unreadAfter: new Map([['7', 4]]) });
      assert.equal(result.lost, 1);
      assert.ok(result.failures.some((f) => f.includes('1 acknowledged payments are not stored')));
      assert.ok(result.failures.some((f) => f.includes('1 keys never acknowledged')));
    });

    test('an acknowledged id that is not the payment stored for its key is lost, even if the key has a payment', async () => {
      const outcome = requested('w1');
      await stored('pay_other_w1', 'w1');
      await notified('pay_other_w1');
      outcome.paymentId = 'pay_w1';
      assert.equal((await audit()).lost, 1);
    });

    test('two payments stored for one Idempotency-Key are a duplicate, and each extra notification is counted', async () => {
      await clean('d1');
      await stored('pay_d1_again', 'd1');
      await notified('pay_d1_again');
      const result = await audit({ unreadAfter: new Map([['7', 5]]) });
      assert.equal(result.dup, 1);
      assert.ok(result.failures.some((f) => f.includes('stored twice')));
    });

    test('a payment no request of the scenario asked for is a phantom, with or without a description', async () => {
      await clean('p1');
      await stored('pay_phantom_1', 'a key nobody sent');
      await stored('pay_phantom_2', null);
      const result = await audit();
      assert.equal(result.phantom, 2);
    });

    test("a payment stored with another amount or payer than its request's fails", async () => {
      requested('m1', { amountMinor: 250n });
      await stored('pay_m1', 'm1', { amountMinor: 999n });
      await notified('pay_m1');
      const result = await audit();
      assert.ok(result.failures.some((f) => f.includes('does not match its request m1')));
    });

    test('rows written before the scenario started are not counted as its own', async () => {
      const result = await audit();
      assert.deepEqual([result.payments, result.phantom, result.notificationsExtra], [0, 0, 0]);
      assert.deepEqual(result.failures, []);
    });

    test('a balance that drifts from its transfers, or debits that do not equal credits, fails the ledger rule', async () => {
      await clean('g1');
      await payments.db.execute(sql`update ledger_accounts set credits_posted = credits_posted + 1 where code = 'system:platform_revenue:USD'`);
      try {
        const result = await audit();
        assert.ok(result.ledgerViolations >= 2, `violations: ${result.ledgerViolations}`);
        assert.ok(result.failures.some((f) => f.startsWith('ledger:')));
      } finally {
        await payments.db.execute(sql`update ledger_accounts set credits_posted = credits_posted - 1 where code = 'system:platform_revenue:USD'`);
      }
    });

    test('a succeeded payment without its notification, one notified twice, to another user or for an unknown payment, fails', async () => {
      requested('n1');
      await stored('pay_n1', 'n1'); // no notification
      await clean('n2');
      await notified('pay_n2'); // twice
      await clean('n3');
      await notified('pay_n3', { recipientId: '8' }); // to someone else
      await notified('pay_unknown'); // for no payment of the scenario
      const result = await audit({ unreadAfter: new Map([['7', 6]]) });
      assert.equal(result.notificationsMissing, 1);
      assert.equal(result.notificationsExtra, 3);
    });

    test("messages that are not payment notifications (sign-up, admin) are not the load's", async () => {
      await clean('s1');
      await notified('pay_s1', { type: 'user.welcome' });
      assert.deepEqual((await audit()).failures, []);
    });

    test("an unread count that moved by other than its payer's succeeded payments is off", async () => {
      await clean('u1');
      await clean('u2');
      const drifted = await audit({ unreadAfter: new Map([['7', 4]]) });
      assert.equal(drifted.unreadOff, 1);
      const missing = await audit({ unreadAfter: new Map() });
      assert.equal(missing.unreadOff, 1);
    });

    test('a key that answered 409 for more than 5 s fails; 409s up to 5 s pass', async () => {
      await clean('k1');
      await clean('k2');
      record.keys.get('k1')!.first409At = now - 4_000;
      assert.deepEqual((await audit()).failures, []);
      const blocked = record.keys.get('k2')!;
      blocked.first409At = now - 9_000;
      const result = await audit();
      assert.equal(result.worst409Seconds, 9);
      assert.ok(result.failures.some((f) => f.includes('answered 409 for 9.0 s')));
    });

    test('a notification late after the recovery fails; the wait during the fault itself does not count', async () => {
      requested('t1');
      await stored('pay_t1', 't1', { createdAt: new Date(now - 30_000) });
      await notified('pay_t1', { sentAt: new Date(now + 2_000) }); // 32 s after its payment, 2 s after the recovery
      const inTime = await audit();
      assert.deepEqual(inTime.failures, []);
      assert.ok(Math.abs(inTime.worstNotificationSeconds - 2) < 0.01);
      const late = await audit({ recoveredAt: now - 20_000 });
      assert.ok(late.failures.some((f) => f.includes('a notification came 22.0 s')));
    });
  });
}
