-- When an account's password, status or role changes (or it is deleted), everything oidc-provider
-- keeps for it is deleted by its accountId (src/revocation/revoke-user-access.ts): an index for that.
create index oidc_models_account on oidc_models ((payload->>'accountId')) where payload->>'accountId' is not null;

-- The latest such moment per account. A request in flight at that moment (a refresh token being
-- rotated, a session being saved) can write a row after the delete; the adapter refuses any row of
-- the account dated before `issued_before`. One row per account ever revoked, kept: a refresh token
-- chain or a session can outlive any fixed retention we would pick here.
create table account_revocations (
  account_id text primary key,
  issued_before timestamptz not null
);
