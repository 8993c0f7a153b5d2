-- Stripe's idempotency semantics: the first response to (caller, key) is kept for 24 hours and
-- replayed byte for byte. The primary key, not a look-up, decides who is first.
create table idempotency_keys (
  scope text not null,
  key text not null,
  request_fingerprint text not null,
  -- in_flight until the first request's outcome is stored; that happens in the transaction that
  -- creates the payment, so a committed payment always has its stored response.
  state text not null check (state in ('in_flight', 'done')),
  response_status integer,
  response_body text,
  created_at timestamptz not null default now(),
  primary key (scope, key)
);
create index idempotency_keys_created on idempotency_keys (created_at);
