-- Password-guessing counts, shared by every replica (services/auth/src/throttle/login-throttle.ts).
-- key: 'account:' || hex SHA-256 of the lower-cased login, or 'ip:' || the client address (IPv6: its /64).
-- failures counts attempts since window_started_at that did not succeed, including those still being
-- checked; locked_until is set when an attempt finds the count used up.
create table login_failures (
  key text primary key,
  failures integer not null check (failures >= 0),
  window_started_at timestamptz not null,
  locked_until timestamptz
);
