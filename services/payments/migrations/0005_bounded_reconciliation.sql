-- The reconciler's tries are bounded (docs/adr/0006-payment-lifecycle.md): a capture the processor
-- keeps refusing is not retried forever. Each failed try is counted; past
-- PAYMENTS_RECONCILE_MAX_TRIES the attempt is marked failed and kept as the record of it, and no
-- longer blocks its payment (the one-in-doubt-per-target rule covers attempts still in doubt only).
alter table processor_attempts
  add column tries integer not null default 0,
  add column last_error text;
alter table processor_attempts drop constraint processor_attempts_state_check;
alter table processor_attempts add constraint processor_attempts_state_check check (state in ('started', 'abandoned', 'failed'));
alter table processor_attempts drop constraint processor_attempts_target_id_key;
create unique index processor_attempts_target_in_doubt on processor_attempts (target_id) where state <> 'failed';
