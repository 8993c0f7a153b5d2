// Tracing in embedded mode: this process hosts the whole platform, so the SDK is started here,
// before the platform's modules load (as scripts/start.ts does), with the SDK's in-memory exporter
// instead of an OTLP endpoint. One payment must yield one trace across every hop.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { startTracing } from '@paymesh/platform/tracing/start-tracing';
import type { ReceivedSpan } from '@paymesh/app/testing/otlp-receiver';
import type { TraceStarter } from './payment-trace.ts';

const exporter = new InMemorySpanExporter();
const tracing = await startTracing('paymesh', {}, { spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const { backends, startTestPlatform } = await import('@paymesh/app/testing');
const { assertOnePaymentTrace, payUnderTrace, reachedTheEnd, spansOfTrace } = await import('./payment-trace.ts');
type TestPlatform = Awaited<ReturnType<typeof startTestPlatform>>;

/** The payment request inside a span of the test's own: its instrumented fetch carries it on. */
const testSpan: TraceStarter = (send) => trace.getTracer('test').startActiveSpan('test client', async (span) => {
  try {
    await send({});
    return { traceId: span.spanContext().traceId, clientSpanId: span.spanContext().spanId };
  } finally {
    span.end();
  }
});

/** The in-memory exporter's spans in the shape the OTLP receiver gives (OTLP numbers kinds from 1). */
function received(): ReceivedSpan[] {
  return exporter.getFinishedSpans().map((span: ReadableSpan) => ({
    traceId: span.spanContext().traceId,
    spanId: span.spanContext().spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    kind: span.kind + 1,
    service: String(span.resource.attributes['service.name'] ?? ''),
    scope: span.instrumentationScope.name,
    attributes: span.attributes as Record<string, string | number | boolean>,
  }));
}

after(async () => {
  await tracing?.shutdown();
});

for (const backend of backends()) {
  describe(`tracing, embedded mode on ${backend}`, () => {
    let platform: TestPlatform;
    before(async () => {
      platform = await startTestPlatform(backend, { captureLogs: true });
    });
    after(async () => {
      await platform?.stop();
    });

    test('one payment yields one trace from the gateway through payments, its transaction, the relay, the consumer, to the stream push and the email', async () => {
      const payment = await payUnderTrace(platform, testSpan);
      await payment.streamShowedNotification;
      await platform.settle();
      const trace = await spansOfTrace(received, payment.traceId, reachedTheEnd);
      assertOnePaymentTrace(trace, payment);
      const paymentTransaction = trace.find((span) => span.name === 'transaction' && span.attributes['paymesh.service'] === 'payments');
      assert.ok(paymentTransaction !== undefined, 'payments\' database transaction is in the trace');
      if (backend === 'postgres') {
        assert.ok(trace.some((span) => span.scope.includes('instrumentation-pg') && span.parentSpanId === paymentTransaction.spanId), 'the pg instrumentation\'s query spans nest in the transaction');
      }
    });

    test('log lines of a traced request carry its trace_id and span_id', async () => {
      const payment = await payUnderTrace(platform, testSpan);
      await payment.streamShowedNotification;
      const lines = platform.logs!('payments').split('\n').filter((line) => line.includes(payment.traceId));
      assert.ok(lines.length > 0, 'payments logged the traced request with its trace id');
      for (const line of lines) assert.match(JSON.parse(line).span_id, /^[0-9a-f]{16}$/);
    });
  });
}
