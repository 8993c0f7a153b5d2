-- When each account last signed in with its password (by its hashed account key), so that a
-- sign-in from an unknown device and address can be told apart from the account's first one:
-- only the former announces user.new_login. Kept as long as known sources are
-- (LOGIN_KNOWN_DEVICE_DAYS), and pruned with them.
create table login_sign_ins (
  account text primary key,
  last_success_at timestamptz not null
);
create index login_sign_ins_last_success on login_sign_ins (last_success_at);
