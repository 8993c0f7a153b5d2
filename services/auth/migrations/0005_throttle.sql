-- Lockouts an attacker cannot aim (docs/adr/0009-unaimable-lockouts.md).
-- login_failures keeps the counts that lock: 'pair:' (one account from one address or known
-- device), 'ip:' (one address over every account), 'client:' (one OAuth client id from one
-- address) and 'client-ip:' (one address over every client). Accounts are no longer locked as a
-- whole: their old rows go.
delete from login_failures where key like 'account:%';

-- The account-wide slowdown: failed logins of one account (its login key's hash) from sources it
-- does not know; the next attempt is admitted once last_failure_at plus the delay that count earns
-- has passed. Never a lock: a known device is not held back by it.
create table login_delays (
  key text primary key,
  failures integer not null check (failures >= 0),
  last_failure_at timestamptz not null
);

-- Where an account signed in successfully: 'address:' or 'device:' || hex SHA-256 of its login key
-- and the address (IPv6: its /64) or the device cookie's id. Such a source skips the account-wide
-- slowdown until it stops being fresh, or until its own count locks.
create table login_known_sources (
  key text primary key,
  last_success_at timestamptz not null
);
create index login_known_sources_last_success on login_known_sources (last_success_at);
