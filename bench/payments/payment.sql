-- One POST /payments {"amount": 12.34, "user_id": N} with an Idempotency-Key, paid with the test
-- card pm_card_visa, as the payments service sends it to PostgreSQL: the statements and their
-- order were read off log_statement = 'all' and match the code (payments/payment-routes.ts,
-- payers/payers.ts, idempotency/idempotency-key.ts, payments/create-payment.ts,
-- payment-methods/payment-method.ts, ledger/ledger.ts, payments/payment-store.ts and the
-- platform's events/enqueue-event.ts, processor/processor-attempt.ts). Four transactions, as the
-- service runs them: the payer check, the key's claim with its lease, and the processor attempt's
-- record (each on its own, autocommit), then the payment's transaction, which also deletes the
-- attempt's record. The service caches the ledger accounts' ids after their first use, so it
-- looks none up here. Read again off log_statement = 'all' on 2026-12-07 (the idempotency leases
-- and processor attempts had made the earlier script abort).
--
-- This is issue 18's reference and stays as it is: one payment's SQL as the service ran it when the
-- issue was filed, a transaction per payment. Since ADR 30 the service sends the same writes, but a
-- payment's transaction is part of a group's (several payments, one begin and one commit), and the
-- ledger transfer (the locking select, the update and the insert below) is one statement.
--
-- pgbench -M extended sends every :variable as a bound parameter, as node-postgres does. Ids the
-- service makes in JavaScript are made from a random number here, the uuids of the transfer and
-- of the events by gen_random_uuid(). bench/payments.ts gives, with -D, values taken from a
-- payment the service made in the same run: users (payers 1..users exist), debit and credit (the
-- processor clearing and platform revenue accounts), amount, currency, posted and pending (the
-- transfer's flags), fingerprint (of the request), card (the payment's payment_method snapshot),
-- event (a payment event's payload), request_id, response (the stored 200 response body).
\set uid random(1, :users)
\set n random(1, 9223372036854775806)
select status from payers where user_id = :uid;
insert into idempotency_keys (scope, key, request_fingerprint, state, claim_token, lease_expires_at)
  values ('user:' || :uid, 'ik_' || :n, :fingerprint, 'in_flight', 'ct_' || :n, now() + make_interval(secs => 3))
  on conflict (scope, key) do nothing returning key;
insert into processor_attempts (id, operation, target_id, idempotency_scope, idempotency_key, payment_method, processor_authorization,
    amount_minor, currency, capture, authenticated, state, holder, lease_expires_at)
  select 'att_' || :n, 'authorize', 'pay_' || :n, 'user:' || :uid, 'ik_' || :n,
    jsonb_build_object('id', 'pm_' || :n, 'token', 'tok_test_succeeds_' || :n, 'insert', jsonb_build_object('saved', false, 'userId', :uid::text, 'processor', 'test'), 'summary', (:card::jsonb)->'card'), null,
    :amount::bigint, :currency, true, false, 'started', 'ct_' || :n, now() + make_interval(secs => 3)
  where exists (select 1 from idempotency_keys
  where scope = 'user:' || :uid and key = 'ik_' || :n and claim_token = 'ct_' || :n and state = 'in_flight' for update) and true
  on conflict (target_id) where state <> 'failed' do nothing
  returning id;
begin;
insert into payment_methods (id, user_id, type, brand, last4, exp_month, exp_year, fingerprint, processor, processor_token, saved)
  values ('pm_' || :n, :uid, 'card', 'visa', '4242', 12, 2027, 'KTux121l3AHCNXvd', 'test', 'tok_test_succeeds_' || :n, false)
  returning id, user_id, brand, last4, exp_month, exp_year, fingerprint, processor_token, saved, created_at;
insert into payments (id, user_id, amount_minor, currency, status, description, created_by, capture_method, payment_method_type,
    payment_method_id, payment_method, processor_authorization, authorization_transfer_id, amount_capturable, amount_received,
    last_payment_error, next_action)
  values ('pay_' || :n, :uid, :amount::bigint, :currency, 'succeeded', null,
    'user:' || :uid, 'automatic', 'card', 'pm_' || :n, :card::jsonb,
    'auth_test_' || :n, null, 0::bigint,
    :amount::bigint, null::jsonb, null::jsonb)
  returning id, seq, user_id, amount_minor, currency, status, description, created_by, capture_method, payment_method_type,
    payment_method_id, payment_method, processor_authorization, authorization_transfer_id, amount_capturable, amount_received,
    amount_refunded, last_payment_error, next_action, cancellation_reason, canceled_at, created_at;
insert into outbox (id, subject, version, payload, request_id, created_at, traceparent)
  values (gen_random_uuid(), 'payment.created', 1, :event::jsonb, :request_id, now(), null);
insert into outbox (id, subject, version, payload, request_id, created_at, traceparent)
  values (gen_random_uuid(), 'payment.succeeded', 1, :event::jsonb, :request_id, now(), null);
update idempotency_keys set state = 'done', response_status = 200, response_body = :response
  where scope = 'user:' || :uid and key = 'ik_' || :n and state = 'in_flight' and claim_token = 'ct_' || :n returning key;
delete from processor_attempts where id = 'att_' || :n and holder = 'ct_' || :n returning id;
-- The ledger transfer comes last, as in the service: the two shared accounts stay locked only
-- until the commit.
select id, currency, debits_posted, credits_posted, debits_pending, no_overdraft from ledger_accounts
  where id in (:debit, :credit) order by id for update;
update ledger_accounts set
    debits_posted = debits_posted + case when :posted and id = :debit then :amount::bigint else 0 end,
    debits_pending = debits_pending + case when :pending and id = :debit then :amount::bigint else 0 end,
    credits_posted = credits_posted + case when :posted and id = :credit then :amount::bigint else 0 end,
    credits_pending = credits_pending + case when :pending and id = :credit then :amount::bigint else 0 end
  where id in (:debit, :credit);
insert into ledger_transfers (id, debit_account_id, credit_account_id, amount_minor, currency, payment_id, kind, flags, reference)
  values (gen_random_uuid(), :debit, :credit, :amount::bigint, :currency, 'pay_' || :n, 'payment', 'single', null);
commit;
