-- The contract version an event was written for travels in its envelope, so that a consumer can
-- refuse a major version it does not know (docs/adr/0017-typed-event-contracts.md). Rows from
-- before were all version 1.
alter table outbox add column version integer not null default 1;
