-- Rate limits (rate-limiter-flexible's RateLimiterPostgres layout): one row per limited key, in
-- the service's own database, so a limit holds over every replica. `expire` is epoch ms.
create table rate_limits (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);
create index rate_limits_expire on rate_limits (expire);
