-- The W3C trace context of the transaction that wrote the event (its `traceparent` header value),
-- so that the trace continues across the relay, the transport and the consumer
-- (docs/adr/0022-tracing.md). Null when tracing is off.
alter table outbox add column traceparent text;
