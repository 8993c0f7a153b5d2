create table users (
  id bigint generated always as identity primary key,
  -- Erased (set to null) when the account is deleted; the row stays as a tombstone so that an id
  -- is never given to someone else.
  username text,
  email text,
  password_hash text,
  display_name text,
  role text not null default 'user' check (role in ('user', 'admin')),
  status text not null default 'active' check (status in ('active', 'disabled', 'deleted')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz
);
-- Unique regardless of case: the constraint, not a look-up before the insert, decides.
create unique index users_username_lower on users (lower(username));
create unique index users_email_lower on users (lower(email));
