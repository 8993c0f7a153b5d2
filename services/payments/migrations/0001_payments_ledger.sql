-- Double-entry ledger on TigerBeetle's model: accounts with running totals, immutable transfers.
-- Balances change only in the transaction that inserts the transfer that explains them.
create table ledger_accounts (
  id bigint generated always as identity primary key,
  code text not null unique,
  currency char(3) not null,
  user_id bigint,
  debits_posted bigint not null default 0 check (debits_posted >= 0),
  credits_posted bigint not null default 0 check (credits_posted >= 0),
  created_at timestamptz not null default now()
);

create table ledger_transfers (
  id uuid primary key,
  debit_account_id bigint not null references ledger_accounts (id),
  credit_account_id bigint not null references ledger_accounts (id),
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  payment_id text,
  kind text not null,
  created_at timestamptz not null default now(),
  check (debit_account_id <> credit_account_id)
);
create index ledger_transfers_payment on ledger_transfers (payment_id);

create table payments (
  -- `seq` orders listings and cursors; `id` is what the API shows.
  seq bigint generated always as identity unique,
  id text primary key,
  user_id bigint not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency char(3) not null,
  status text not null check (status in ('succeeded')),
  description text,
  created_by text not null,
  created_at timestamptz not null default now()
);
create index payments_user_seq on payments (user_id, seq desc);
