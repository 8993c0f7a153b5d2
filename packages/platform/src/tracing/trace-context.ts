// W3C trace context carried by hand where no instrumentation can: in outbox rows, in event
// envelopes and NATS headers, in rows a worker picks up later (npm has no NATS instrumentation,
// and a row read back by a relay or a worker has lost the async context it was written in).
// With tracing off (start-tracing.ts) every function here is a boolean test and a direct call.
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { tracingOn } from './start-tracing.ts';

export { SpanKind };

const tracer = trace.getTracer('@paymesh/platform');

/** The active span's `traceparent` header value, to store beside work that continues later; undefined when tracing is off or nothing is traced. */
export function currentTraceparent(): string | undefined {
  if (!tracingOn()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Runs `work` in a new span whose parent is the `traceparent` stored with the work (none: a root
 * span), so the trace continues where the work was recorded. The span ends when `work` settles and
 * records its failure.
 */
export function inSpanFrom<T>(traceparent: string | null | undefined, name: string, kind: SpanKind, attributes: Attributes, work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!tracingOn()) return work(undefined);
  const parent = traceparent ? propagation.extract(context.active(), { traceparent }) : context.active();
  return tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Runs `work` in a child span of the active one, and plainly when nothing is traced: for steps
 * worth seeing inside a trace (a transaction, a push to a live stream) that would be noise as
 * traces of their own (the same steps in jobs and polls).
 */
export function inChildSpan<T>(name: string, kind: SpanKind, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  if (!tracingOn() || trace.getSpan(context.active()) === undefined) return work();
  return inSpanFrom(undefined, name, kind, attributes, work);
}

/** The `traceparent` of `span` (undefined without one): what a message sent inside it carries on. */
export function traceparentOf(span: Span | undefined): string | undefined {
  if (span === undefined) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier.traceparent;
}

/** trace_id and span_id of the active span, for log lines (logger.ts); empty when nothing is traced. */
export function activeTraceIds(): { trace_id?: string; span_id?: string } {
  if (!tracingOn()) return {};
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * Runs `work` outside any trace: for a pass of shared work (the relay's, the delivery worker's)
 * that whoever kicked it would otherwise claim, its queries showing in one request's trace while
 * serving everyone's. The items of the pass continue their own traces (inSpanFrom).
 */
export function detachedFromTrace<T>(work: () => T): T {
  if (!tracingOn()) return work();
  return context.with(ROOT_CONTEXT, work);
}

/**
 * `work`, bound to the trace active now: called later from elsewhere (a group commit's turn), its
 * spans are still children of this one. Unbound when tracing is off.
 */
export function boundToCurrentTrace<A extends unknown[], T>(work: (...args: A) => T): (...args: A) => T {
  if (!tracingOn()) return work;
  return context.bind(context.active(), work);
}
