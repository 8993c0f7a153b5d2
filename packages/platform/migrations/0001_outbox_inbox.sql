-- Transactional outbox: an event is written in the same transaction as the change it announces
-- and published by the relay afterwards, retried until the transport accepts it.
create table outbox (
  id uuid primary key,
  subject text not null,
  payload jsonb not null,
  request_id text,
  created_at timestamptz not null default now(),
  published_at timestamptz,
  attempts integer not null default 0,
  last_error text,
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz
);
create index outbox_unpublished on outbox (next_attempt_at) where published_at is null;

-- Idempotent consumers: the event id is recorded in the same transaction as its effect, so a
-- redelivered event changes nothing.
create table inbox (
  consumer text not null,
  event_id uuid not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
);

-- Access tokens revoked before their expiry. A row revokes one token (key `jti:<jti>`) or every
-- token of a subject issued before `issued_before` (key `sub:<sub>`: a deleted or disabled user).
-- Every service keeps its own copy, fed by the auth.token.revoked event.
create table revocations (
  key text primary key,
  issued_before timestamptz,
  expires_at timestamptz not null
);
create index revocations_expiry on revocations (expires_at);
