-- A new signing key is published before it signs (from `not_before` on), so that every replica and
-- every service's JWKS cache knows it by the time tokens signed with it arrive.
alter table signing_keys add column not_before timestamptz not null default now();
alter table signing_keys drop column retired_at;
