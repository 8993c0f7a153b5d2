-- The key an account is found by at sign-in and kept unique by: the login name folded once, the
-- same way auth counts password guesses (packages/platform/src/login-key.ts: NFKC, Unicode case
-- folding). SQL cannot compute it, so the service fills it for existing rows when it starts
-- (src/accounts/backfill-login-keys.ts) and sets it on every write of a username or an email.
-- The lower() unique indexes of 0001 stay: they can only refuse more, and the admin's prefix
-- search uses them.
alter table users add column username_key text;
alter table users add column email_key text;
create unique index users_username_key on users (username_key);
create unique index users_email_key on users (email_key);
