// Tracing is off unless the standard OTEL_* variables configure it, and off it costs nothing: the
// SDK is not started, no span is made, nothing is written beside events, no log line grows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { adminPassword, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { tracingConfigured, tracingOn } from '@paymesh/platform/tracing/start-tracing';

describe('when tracing is on', () => {
  test('nothing configured: off (the SDK\'s own default endpoint would send to nobody)', () => {
    assert.equal(tracingConfigured({}), false);
  });
  test('an OTLP endpoint turns it on', () => {
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
    assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
  });
  test('a named exporter turns it on, `none` keeps it off even with an endpoint', () => {
    assert.equal(tracingConfigured({ OTEL_TRACES_EXPORTER: 'console' }), true);
    assert.equal(tracingConfigured({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false);
    assert.equal(tracingConfigured({ OTEL_TRACES_EXPORTER: ' none , ' }), false);
  });
  test('OTEL_SDK_DISABLED=true wins over everything', () => {
    assert.equal(tracingConfigured({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false);
  });
});

describe('tracing off', () => {
  let platform: TestPlatform;
  before(async () => {
    platform = await startTestPlatform('pglite', { captureLogs: true });
  });
  after(async () => {
    await platform?.stop();
  });

  test('a payment starts no SDK, stores no trace context with its events and logs no trace ids', async () => {
    const { api } = platform;
    const login = await api.call('POST', '/auth/login', { json: { username: 'admin', password: adminPassword } });
    assert.equal(login.status, 200);
    const me = await api.call('GET', '/users/me', { token: login.body.token });
    const payment = await api.call('POST', '/payments', { token: login.body.token, json: { amount: 1.0, user_id: me.body.id }, headers: { traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` } });
    assert.equal(payment.status, 200);
    await platform.settle();
    assert.equal(tracingOn(), false);
    const provider = trace.getTracerProvider();
    assert.ok(provider instanceof ProxyTracerProvider && provider.getDelegate().constructor.name === 'NoopTracerProvider', 'no tracer provider was registered');
    const rows = await queryRows<{ traceparent: string | null }>(platform.service('payments').runtime.database.db, sql`select traceparent from outbox`);
    assert.ok(rows.length > 0);
    assert.deepEqual(new Set(rows.map((row) => row.traceparent)), new Set([null]));
    assert.doesNotMatch(platform.logs!('payments'), /"trace_id"/);
  });
});
