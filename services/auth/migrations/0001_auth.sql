-- Signing keys of the provider: the newest signs, the older ones stay published in the JWKS
-- until every token they signed has expired.
create table signing_keys (
  kid text primary key,
  private_jwk jsonb not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);

-- oidc-provider's models (sessions, grants, codes, refresh tokens, interactions...), one table.
create table oidc_models (
  model text not null,
  id text not null,
  payload jsonb not null,
  grant_id text,
  user_code text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  primary key (model, id)
);
create index oidc_models_grant on oidc_models (grant_id) where grant_id is not null;
create index oidc_models_uid on oidc_models (uid) where uid is not null;
create index oidc_models_user_code on oidc_models (user_code) where user_code is not null;
create index oidc_models_expiry on oidc_models (expires_at) where expires_at is not null;
