-- The full payment lifecycle (docs/adr/0006-payment-lifecycle.md) over a two-phase ledger.

-- Ledger: TigerBeetle's pending balances and its `debits_must_not_exceed_credits` flag. A wallet
-- can never go below zero, whatever the code does: the database refuses the row.
alter table ledger_accounts
  add column debits_pending bigint not null default 0 check (debits_pending >= 0),
  add column credits_pending bigint not null default 0 check (credits_pending >= 0),
  add column no_overdraft boolean not null default false,
  add constraint ledger_accounts_no_overdraft check (not no_overdraft or debits_posted + debits_pending <= credits_posted);

-- `flags` as in TigerBeetle: a single-phase transfer, a pending one (an authorisation or a refund
-- in flight), or the transfer that posts or voids a pending one. A pending transfer is resolved at
-- most once: the unique index on pending_id, not a look-up, decides.
alter table ledger_transfers
  add column flags text not null default 'single' check (flags in ('single', 'pending', 'post_pending', 'void_pending')),
  add column pending_id uuid references ledger_transfers (id),
  add column reference text,
  add constraint ledger_transfers_resolution check ((flags in ('post_pending', 'void_pending')) = (pending_id is not null));
create unique index ledger_transfers_resolves_once on ledger_transfers (pending_id) where pending_id is not null;

-- Payment methods: never the card number or the CVC. The processor holds the card; we keep its
-- token, what a person needs to recognise the card, and a keyed fingerprint to spot the same card.
create table payment_methods (
  id text primary key,
  user_id bigint not null,
  type text not null check (type = 'card'),
  brand text not null,
  last4 char(4) not null,
  exp_month integer not null check (exp_month between 1 and 12),
  exp_year integer not null,
  fingerprint text not null,
  processor text not null,
  processor_token text not null,
  -- saved: listed and reusable by its owner; otherwise the card was given for one payment.
  saved boolean not null,
  detached_at timestamptz,
  created_at timestamptz not null default now()
);
create index payment_methods_user on payment_methods (user_id, created_at desc) where saved and detached_at is null;

alter table payments drop constraint payments_status_check;
alter table payments
  add constraint payments_status_check check (status in ('requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'succeeded', 'canceled')),
  add column capture_method text not null default 'automatic' check (capture_method in ('automatic', 'manual')),
  -- 'card' or 'wallet'; null until a method is given (and for payments recorded before 0003).
  add column payment_method_type text check (payment_method_type in ('card', 'wallet')),
  add column payment_method_id text references payment_methods (id),
  -- What the payment shows of its method (brand, last 4, expiry, fingerprint), kept with it.
  add column payment_method jsonb,
  add column processor_authorization text,
  -- Deferred: a new payment's transfer is written last in its transaction (ADR 6).
  add column authorization_transfer_id uuid references ledger_transfers (id) deferrable initially deferred,
  add column amount_capturable bigint not null default 0 check (amount_capturable >= 0),
  add column amount_received bigint not null default 0 check (amount_received >= 0),
  add column amount_refunded bigint not null default 0 check (amount_refunded >= 0),
  add column last_payment_error jsonb,
  add column next_action jsonb,
  add column cancellation_reason text,
  add column canceled_at timestamptz,
  add column updated_at timestamptz not null default now(),
  add constraint payments_received_within_amount check (amount_received + amount_capturable <= amount_minor),
  add constraint payments_refunds_within_received check (amount_refunded <= amount_received);
update payments set amount_received = amount_minor where status = 'succeeded';

-- Listing: newest first by (created_at, seq), each filter combination served by an index whose
-- order is the listing's, so a page costs the same at a thousand rows and at a million.
drop index payments_user_seq;
create index payments_user_created on payments (user_id, created_at desc, seq desc);
create index payments_user_status_created on payments (user_id, status, created_at desc, seq desc);
create index payments_status_created on payments (status, created_at desc, seq desc);
create index payments_created on payments (created_at desc, seq desc);

create table refunds (
  seq bigint generated always as identity unique,
  id text primary key,
  payment_id text not null references payments (id),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  status text not null check (status in ('pending', 'succeeded', 'failed')),
  reason text check (reason in ('duplicate', 'fraudulent', 'requested_by_customer')),
  failure_reason text,
  -- The transfer that returned the money; none for a refund the processor refused.
  transfer_id uuid references ledger_transfers (id),
  processor_refund text,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index refunds_payment on refunds (payment_id, seq desc);
create index refunds_pending on refunds (created_at) where status = 'pending';

create table wallet_top_ups (
  id text primary key,
  user_id bigint not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  payment_method_id text not null references payment_methods (id),
  payment_method jsonb not null,
  processor_authorization text not null,
  transfer_id uuid not null references ledger_transfers (id),
  created_by text not null,
  created_at timestamptz not null default now()
);
create index wallet_top_ups_user on wallet_top_ups (user_id, created_at desc);

-- Whoever holds an idempotency key in flight, so that a request whose claim was taken over (it ran
-- past the abandonment time) can no longer store an outcome.
alter table idempotency_keys add column claim_token text;

-- Who may pay: a local view of the users service's answers and events. An event always wins over
-- a looked-up answer, and a deleted user stays deleted.
create table payers (
  user_id bigint primary key,
  status text not null check (status in ('active', 'disabled', 'deleted')),
  -- When the users service said so (the event's time); -infinity for a looked-up answer.
  as_of timestamptz not null
);
