-- Rate limits (rate-limiter-flexible's RateLimiterPostgres layout): one row per limited key, in
-- the service's own database, so a limit holds over every replica. `expire` is epoch ms. The key
-- is text, not the library's varchar(255): a limit's name plus a 254-character mailbox is longer.
create table rate_limits (
  key text primary key,
  points integer not null default 0,
  expire bigint
);
create index rate_limits_expire on rate_limits (expire);
