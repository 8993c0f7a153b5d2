-- Payments after a crash (issue 12, docs/adr/0006-payment-lifecycle.md).

-- An Idempotency-Key claim is held by a short lease that its request renews while it runs: the
-- claim of a request whose process died lapses within one lease, and a retry takes it over.
-- Claims in flight when this runs keep the 60 s they had before leases existed.
alter table idempotency_keys
  add column lease_expires_at timestamptz not null default now(),
  -- What the request began that a retry taking the key over must resume rather than begin again
  -- (a refund's id).
  add column resource_id text;
update idempotency_keys set lease_expires_at = created_at + interval '60 seconds' where state = 'in_flight';
alter table idempotency_keys alter column lease_expires_at drop default;

-- A processor operation that moves or holds money, recorded (and committed) before the processor
-- is called, and deleted in the transaction that records its outcome. A row that outlives its
-- request is in doubt: the client's retry with the same Idempotency-Key resumes it (same processor
-- idempotency key, so the processor answers with the same charge), or the reconciler settles it.
create table processor_attempts (
  -- The processor's idempotency keys are derived from it: `<id>:authorize`, `<id>:capture`, …
  id text primary key,
  operation text not null check (operation in ('authorize', 'capture', 'void')),
  -- The payment (pay_…) or top-up (wtu_…) it is for; one operation in doubt per target at a time.
  target_id text not null unique,
  -- The caller's Idempotency-Key, when the request had one: a retry taking the key over resumes it.
  idempotency_scope text,
  idempotency_key text,
  -- authorize: the card as the processor knows it (its token, brand, last 4), never a card number.
  payment_method jsonb,
  -- capture and void: the processor's authorisation.
  processor_authorization text,
  amount_minor bigint check (amount_minor > 0),
  currency char(3),
  capture boolean not null default false,
  authenticated boolean not null default false,
  -- started: its request may still record it; abandoned: it will not be recorded, and is being
  -- (or waits to be) settled at the processor.
  state text not null check (state in ('started', 'abandoned')),
  -- The token of the request (or reconciler) holding it, and until when.
  holder text not null,
  lease_expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  check ((operation = 'authorize') = (payment_method is not null)),
  check ((operation = 'authorize') = (processor_authorization is null))
);
create index processor_attempts_lease on processor_attempts (lease_expires_at);
create index processor_attempts_idempotency_key on processor_attempts (idempotency_scope, idempotency_key) where idempotency_key is not null;
