// Tracing in distributed mode: every service its own process exporting over OTLP/HTTP (the
// standard OTEL_* variables) to a receiver in this test on a loopback port, events on NATS. One
// payment must yield one trace across the processes, the broker included.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startDistributedTestPlatform, testDatabaseUrl, testNatsUrl, type TestPlatform } from '@paymesh/app/testing';
import { otlpEnv, startOtlpReceiver, type OtlpReceiver } from '@paymesh/app/testing/otlp-receiver';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { ancestry, assertOnePaymentTrace, payUnderTrace, reachedTheEnd, spansOfTrace, treeOf } from './payment-trace.ts';

const skip = testDatabaseUrl === undefined || testNatsUrl === undefined ? 'needs TEST_DATABASE_URL and TEST_NATS_URL (CI sets them)' : false;

describeOrSkip('tracing, distributed mode (a process per service, NATS)', skip, () => {
  let receiver: OtlpReceiver;
  let platform: TestPlatform;
  before(async () => {
    receiver = await startOtlpReceiver();
    platform = await startDistributedTestPlatform({ env: otlpEnv(receiver) });
  });
  after(async () => {
    await platform?.stop();
    await receiver?.close();
  });

  test('one payment yields one trace across the gateway, payments and its queries, NATS, the notifications consumer, the stream push and the email', async (t) => {
    const payment = await payUnderTrace(platform);
    await payment.streamShowedNotification;
    const trace = await spansOfTrace(() => receiver.spans, payment.traceId, reachedTheEnd);
    t.diagnostic(`the trace:\n${treeOf(trace, payment.clientSpanId)}`);
    assertOnePaymentTrace(trace, payment);

    // Each hop is in the process that made it.
    const serviceOf = (name: string) => trace.find((span) => span.name === name)?.service;
    assert.equal(serviceOf('publish payment.succeeded'), 'payments');
    assert.equal(serviceOf('process payment.succeeded'), 'notifications');
    assert.equal(serviceOf('deliver email'), 'notifications');
    assert.equal(trace.find((span) => span.parentSpanId === payment.clientSpanId)?.service, 'gateway');
    // payments' database writes: the pg instrumentation's spans inside its transaction.
    const transaction = trace.find((span) => span.name === 'transaction' && span.service === 'payments');
    assert.ok(transaction !== undefined, 'payments\' transaction is in the trace');
    const queries = trace.filter((span) => span.scope.includes('instrumentation-pg') && ancestry(trace, span).includes(transaction));
    assert.ok(queries.some((span) => /insert/i.test(String(span.attributes['db.query.text'] ?? span.attributes['db.statement'] ?? span.name))), 'the payment\'s inserts are pg spans in its transaction');
    // The consumer's span hangs from the publish that crossed NATS (the traceparent header).
    const consumer = trace.find((span) => span.name === 'process payment.succeeded')!;
    assert.equal(trace.find((span) => span.spanId === consumer.parentSpanId)?.name, 'publish payment.succeeded');

    // Log lines of the traced request carry its ids.
    const logged = platform.logs!('payments').split('\n').filter((line) => line.includes(payment.traceId));
    assert.ok(logged.length > 0, 'payments logged the traced request with its trace id');
    for (const line of logged) assert.match(JSON.parse(line).span_id, /^[0-9a-f]{16}$/);
  });
});
