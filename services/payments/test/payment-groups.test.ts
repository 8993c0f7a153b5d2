// New payments that arrive together commit in one transaction (ADR 30, PAYMENTS_COMMIT_GROUP):
// each is still recorded once, with its own response, transfer and events, declines included; a
// replay of any of them answers what it answered; and the ledger holds.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { backends, suitePlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { assertInvariantsOverScenarios } from './assert-ledger-invariants.ts';

for (const backend of backends()) {
  describe(`payments committed in groups (${backend})`, () => {
    const suite = suitePlatform(backend, { db: 'payments', users: ['alice', 'bob'] });

    const post = async (token: string, body: string, key: string) => {
      const response = await fetch(`${suite.platform.gatewayUrl}/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
        body,
        signal: AbortSignal.timeout(20_000),
      });
      return { status: response.status, text: await response.text() };
    };

    test('40 payments sent at once, some declined: each recorded once with its own answer, transfer and events, in fewer transactions than payments on PostgreSQL', async () => {
      const requests = Array.from({ length: 40 }, (_, i) => {
        const payer = i % 2 === 0 ? suite.alice : suite.bob;
        const declined = i % 10 === 3;
        const body = JSON.stringify({ amount: (100 + i) / 100, user_id: payer.id, ...(declined ? { payment_method: 'pm_card_visa_chargeDeclined' } : {}) });
        return { payer, declined, body, minor: 100 + i, key: randomUUID() };
      });
      const answers = await Promise.all(requests.map((r) => post(r.payer.token, r.body, r.key)));
      assert.deepEqual(answers.map((a) => a.status), requests.map((r) => (r.declined ? 402 : 200)));

      const succeeded = answers.filter((a) => a.status === 200).map((a) => JSON.parse(a.text).payment as { id: string; user_id: number; amount: number; status: string });
      assert.equal(new Set(succeeded.map((p) => p.id)).size, succeeded.length, 'every answer names its own payment');
      requests.filter((r) => !r.declined).forEach((r, i) => {
        assert.equal(succeeded[i]!.user_id, r.payer.id);
        assert.equal(succeeded[i]!.amount, r.minor, 'its own amount, in minor units');
        assert.equal(succeeded[i]!.status, 'succeeded');
      });

      const ids = succeeded.map((p) => p.id);
      const rows = await queryRows<{ id: string; tx: string; transfers: number; events: number }>(suite.db, sql`
        select p.id, p.xmin::text as tx,
          (select count(*) from ledger_transfers t where t.payment_id = p.id)::int as transfers,
          (select count(*) from outbox o where o.payload->>'payment_id' = p.id)::int as events
        from payments p where p.id in ${ids}`);
      assert.equal(rows.length, ids.length);
      for (const row of rows) {
        assert.equal(row.transfers, 1, `${row.id}: one transfer`);
        assert.equal(row.events, 2, `${row.id}: payment.created and payment.succeeded`);
      }
      // On PGlite every statement of every request queues on its one connection, so payments reach
      // the group one at a time and each commits alone: grouping is PostgreSQL's (ADR 30).
      const transactions = new Set(rows.map((r) => r.tx)).size;
      if (backend === 'postgres') assert.ok(transactions < rows.length, `${rows.length} payments committed in ${transactions} transactions`);

      // Each key answers again what it answered, declines too.
      const replays = await Promise.all(requests.map((r) => post(r.payer.token, r.body, r.key)));
      assert.deepEqual(replays.map((a) => a.text), answers.map((a) => a.text));
      const [count] = await queryRows<{ n: number }>(suite.db, sql`select count(*)::int as n from payments where id in ${ids}`);
      assert.equal(count!.n, ids.length);
    });

    test('payments in two currencies and both capture methods sent at once: each has one transfer of its own amount, pending or posted as its capture method says, between its own currency\'s accounts', async () => {
      const requests = Array.from({ length: 32 }, (_, i) => {
        const payer = i % 2 === 0 ? suite.alice : suite.bob;
        const currency = i % 4 < 2 ? 'usd' : 'jpy';
        const manual = i % 3 === 0;
        const minor = currency === 'usd' ? 500 + i : 700 + i;
        const amount = currency === 'usd' ? minor / 100 : minor;
        return { payer, currency, manual, minor, key: randomUUID(), body: JSON.stringify({ amount, currency, user_id: payer.id, ...(manual ? { capture_method: 'manual' } : {}) }) };
      });
      const answers = await Promise.all(requests.map((r) => post(r.payer.token, r.body, r.key)));
      assert.deepEqual(answers.map((a) => a.status), requests.map(() => 200), answers.map((a) => a.text).find((t) => !t.includes('"payment"')));
      const payments = answers.map((a) => JSON.parse(a.text).payment as { id: string; status: string });
      payments.forEach((p, i) => assert.equal(p.status, requests[i]!.manual ? 'requires_capture' : 'succeeded'));
      const transfers = await queryRows<{ payment_id: string; amount_minor: string; currency: string; flags: string; debit_currency: string; credit_currency: string; n: number }>(suite.db, sql`
        select t.payment_id, t.amount_minor::text, trim(t.currency) as currency, t.flags, trim(d.currency) as debit_currency, trim(c.currency) as credit_currency,
          count(*) over (partition by t.payment_id)::int as n
        from ledger_transfers t join ledger_accounts d on d.id = t.debit_account_id join ledger_accounts c on c.id = t.credit_account_id
        where t.payment_id in ${payments.map((p) => p.id)}`);
      const byPayment = new Map(transfers.map((t) => [t.payment_id, t]));
      assert.equal(transfers.length, payments.length, 'one transfer per payment');
      payments.forEach((p, i) => {
        const r = requests[i]!;
        const t = byPayment.get(p.id)!;
        assert.deepEqual({ ...t }, { payment_id: p.id, amount_minor: String(r.minor), currency: r.currency.toUpperCase(), flags: r.manual ? 'pending' : 'single', debit_currency: r.currency.toUpperCase(), credit_currency: r.currency.toUpperCase(), n: 1 });
      });
      // Several transfers went in one statement (a group's, ledger.ts's transferMany) on PostgreSQL.
      const [groups] = await queryRows<{ n: number }>(suite.db, sql`select count(distinct xmin::text)::int as n from ledger_transfers where payment_id in ${payments.map((p) => p.id)}`);
      if (backend === 'postgres') assert.ok(groups!.n < payments.length, `${payments.length} transfers in ${groups!.n} transactions`);
    });

    test('new cards, 3-D Secure, declines, the wallet and unconfirmed payments sent at once: each answer is the payment as stored and read back, and each new card is stored once, for its payer', async () => {
      const cardDetails = { number: '4242424242424242', exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123' };
      const kinds = [
        { method: cardDetails, status: 200 },
        { method: 'pm_card_visa', status: 200 },
        { method: 'pm_card_authenticationRequired', status: 200 },
        { method: 'pm_card_visa_chargeDeclined', status: 402 },
        { method: 'pm_card_visa', confirm: false, status: 200 },
        { method: 'pm_card_visa', capture: 'manual', status: 200 },
        { method: 'wallet', status: 402 },
        { method: undefined, confirm: false, status: 200 },
      ] as const;
      const requests = Array.from({ length: 32 }, (_, i) => {
        const kind = kinds[i % kinds.length]!;
        const payer = i % 2 === 0 ? suite.alice : suite.bob;
        const body = JSON.stringify({
          amount: (900 + i) / 100, user_id: payer.id, description: `grouped n°${i} ✓`,
          ...(kind.method === undefined ? {} : { payment_method: kind.method }),
          ...('confirm' in kind ? { confirm: kind.confirm } : {}),
          ...('capture' in kind ? { capture_method: kind.capture } : {}),
        });
        return { payer, kind, body, key: randomUUID() };
      });
      const answers = await Promise.all(requests.map((r) => post(r.payer.token, r.body, r.key)));
      assert.deepEqual(answers.map((a) => a.status), requests.map((r) => r.kind.status), answers.map((a) => a.text).join('\n'));
      type Shown = { id: string; user_id: number; created: number; payment_method: { id?: string; type: string } | null; last_payment_error: object | null; next_action: object | null };
      const shown = answers.map((a) => {
        const body = JSON.parse(a.text) as { payment?: Shown; error?: { payment?: Shown } };
        return (body.payment ?? body.error?.payment)!;
      });
      assert.equal(new Set(shown.map((p) => p.id)).size, requests.length, 'every answer names its own payment');
      assert.ok(shown.some((p) => p.next_action !== null), 'a payment awaits 3-D Secure');
      assert.ok(shown.some((p) => p.last_payment_error !== null), 'a payment was declined');

      for (const [i, payment] of shown.entries()) {
        const read = await fetch(`${suite.platform.gatewayUrl}/payments/${payment.id}`, { headers: { authorization: `Bearer ${requests[i]!.payer.token}` } });
        assert.equal(read.status, 200);
        assert.deepEqual(await read.json(), payment, `${payment.id}: the answer is the payment a later read returns`);
      }
      // The JSON the answer showed has the stored jsonb's key order (other answers serialise rows read back).
      const stored = await queryRows<{ id: string; payment_method: string | null; last_payment_error: string | null; next_action: string | null }>(suite.db, sql`
        select id, payment_method::text, last_payment_error::text, next_action::text from payments where id in ${shown.map((p) => p.id)}`);
      const byId = new Map(stored.map((row) => [row.id, row]));
      for (const payment of shown) {
        const row = byId.get(payment.id)!;
        for (const field of ['payment_method', 'last_payment_error', 'next_action'] as const) {
          const text = row[field];
          assert.equal(JSON.stringify(payment[field]), text === null ? 'null' : JSON.stringify(JSON.parse(text)), `${payment.id}: ${field} in the stored key order`);
        }
      }
      // Each new card once, its payer's, the one its payment names (a declined card is not kept on the payment: Stripe's).
      const cardIds = shown.flatMap((p) => (p.payment_method?.id === undefined ? [] : [p.payment_method.id]));
      assert.ok(cardIds.length >= 16, `${cardIds.length} payments name a card`);
      const cards = await queryRows<{ id: string; user_id: string; saved: boolean }>(suite.db, sql`select id, user_id::text, saved from payment_methods where id in ${cardIds}`);
      assert.equal(cards.length, cardIds.length, 'one stored card per payment that names one');
      for (const card of cards) {
        const payment = shown.find((p) => p.payment_method?.id === card.id)!;
        assert.equal(card.user_id, String(payment.user_id), `${card.id}: its payer's`);
        assert.equal(card.saved, false);
      }
      const replays = await Promise.all(requests.map((r) => post(r.payer.token, r.body, r.key)));
      assert.deepEqual(replays.map((a) => a.text), answers.map((a) => a.text));
    });

    test('the ledger invariants hold after the groups above', async () => {
      await assertInvariantsOverScenarios(suite.db);
    });
  });
}
