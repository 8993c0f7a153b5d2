-- The W3C trace context of the event (or request) that recorded the delivery, so that the worker's
-- attempts, run later and possibly on another replica, continue its trace
-- (docs/adr/0022-tracing.md). Null when tracing is off.
alter table deliveries add column traceparent text;
