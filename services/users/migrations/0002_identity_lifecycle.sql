-- Email verification, password reset and the rest of the account lifecycle.
alter table users add column email_verified_at timestamptz;
-- An email change waits here until the new address is confirmed; the old one stays in use.
alter table users add column pending_email text;
-- When the owner was last told that someone tried to register with their address (one notice an hour).
alter table users add column registration_notice_at timestamptz;
-- Admin search pages through users in id order, filtered by role and status.
create index users_role_status on users (role, status, id);

-- Single-use tokens sent by email. Only their SHA-256 is kept: a database leak reveals no link.
create table user_tokens (
  token_hash text primary key,
  user_id bigint not null references users (id),
  purpose text not null check (purpose in ('verify_email', 'password_reset')),
  -- verify_email: the address the link confirms (a later change makes an older link useless).
  email text,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index user_tokens_user on user_tokens (user_id, purpose, created_at desc);
