-- Account abuse (docs/adr/0010-account-abuse.md).

-- The mailbox a link was sent to (lower case, `+tag` removed, Gmail's dots ignored): verification
-- links sent to one mailbox are capped per hour over every account, since plus-addressing gives
-- one person any number of distinct addresses.
alter table user_tokens add column mailbox text;
create index user_tokens_mailbox on user_tokens (mailbox, created_at) where mailbox is not null;

-- Password reset requests waiting for the job that answers them. The request only inserts a row
-- (the same cost whether or not an account has the address); the look-up, the token and the email
-- happen after the response, so neither the answer nor its timing tells whether the address is
-- registered. A row lives until the job has handled it.
create table password_reset_requests (
  id bigint generated always as identity primary key,
  email text not null,
  created_at timestamptz not null default now()
);
