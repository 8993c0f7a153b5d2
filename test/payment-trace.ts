// What the tracing tests share: one payment made under a trace the test starts itself (its own
// `traceparent` on the request, as an instrumented client would send), with the payer's live stream
// open and an email address that may receive mail; and the checks that the spans received form
// one tree crossing every hop.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestPlatform } from '@paymesh/app/testing';
import type { ReceivedSpan } from '@paymesh/app/testing/otlp-receiver';

export interface PaymentUnderTrace {
  readonly traceId: string;
  /** The span id the test's request named as its parent: the root of what the platform traced. */
  readonly clientSpanId: string;
  readonly paymentId: string;
  /** Ends the payer's live stream once it has shown the payment's notification. */
  readonly streamShowedNotification: Promise<void>;
}

/**
 * Sends the payment request under a new trace: returns the trace and the span id the request
 * names as its parent. Where the test process is not traced, `headerTrace`; where it is (embedded
 * mode), the test's own span, since its instrumented fetch writes the header itself.
 */
export type TraceStarter = (send: (headers: Record<string, string>) => Promise<void>) => Promise<{ traceId: string; clientSpanId: string }>;

/** A `traceparent` header of a fresh trace, as an instrumented client would send it. */
export const headerTrace: TraceStarter = async (send) => {
  const traceId = randomBytes(16).toString('hex');
  const clientSpanId = randomBytes(8).toString('hex');
  await send({ traceparent: `00-${traceId}-${clientSpanId}-01` });
  return { traceId, clientSpanId };
};

/** Signs a new user up (address confirmed), opens their live stream and pays 100.00 under a fresh trace. */
export async function payUnderTrace(platform: TestPlatform, startTrace: TraceStarter = headerTrace): Promise<PaymentUnderTrace> {
  const { api } = platform;
  const suffix = randomBytes(4).toString('hex');
  const user = { username: `traced_${suffix}`, email: `traced_${suffix}@example.com`, password: 'traced-password-1' };
  assert.equal((await api.call('POST', '/users/create_user', { form: user })).status, 200);
  const login = await api.call('POST', '/auth/login', { json: { username: user.username, password: user.password } });
  assert.equal(login.status, 200);
  const token: string = login.body.token;
  const me = await api.call('GET', '/users/me', { token });
  await platform.confirmEmail(me.body.id);

  const streamShowedNotification = notificationOnStream(platform.gatewayUrl, token);
  // The stream answers with its first unread count once it is registered: pay after that.
  await streamShowedNotification.opened;

  let paymentId = '';
  const { traceId, clientSpanId } = await startTrace(async (headers) => {
    const payment = await api.call('POST', '/payments', { token, json: { amount: 100.0, user_id: me.body.id }, headers });
    assert.equal(payment.status, 200);
    paymentId = payment.body.payment.id;
  });
  return { traceId, clientSpanId, paymentId, streamShowedNotification: streamShowedNotification.notified };
}

/** Reads the user's SSE stream until a notification arrives (bounded: 15 s), then closes it. */
function notificationOnStream(gatewayUrl: string, token: string): { opened: Promise<void>; notified: Promise<void> } {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('no notification on the live stream within 15 s')), 15_000);
  let markOpened: () => void = () => {};
  const opened = new Promise<void>((resolve) => (markOpened = resolve));
  const notified = (async () => {
    const response = await fetch(`${gatewayUrl}/notifications/stream`, { headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, signal: abort.signal });
    assert.equal(response.status, 200);
    const decoder = new TextDecoder();
    let text = '';
    try {
      for await (const chunk of response.body!) {
        text += decoder.decode(chunk, { stream: true });
        if (text.includes('event: unread_count')) markOpened();
        if (text.includes('event: notification')) return;
      }
      assert.fail('the live stream ended before a notification');
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  })();
  // A failure before the stream opened must fail the caller waiting on `opened` too.
  return { opened: Promise.race([opened, notified]), notified };
}

/** The spans of `traceId` once one of them satisfies `done` (bounded: 15 s; exporters batch). */
export async function spansOfTrace(spans: () => readonly ReceivedSpan[], traceId: string, done: (trace: readonly ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const trace = spans().filter((span) => span.traceId === traceId);
    if (done(trace)) return trace;
    if (Date.now() > deadline) assert.fail(`trace ${traceId} incomplete after 15 s: ${describeTrace(trace)}; ${spans().length} spans in all: ${[...new Set(spans().map((span) => span.name))].join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Whether the trace holds its last hops: the email attempt and the push to the live stream. */
export function reachedTheEnd(trace: readonly ReceivedSpan[]): boolean {
  return trace.some((span) => span.name === 'deliver email') && trace.some((span) => span.name === 'sse push');
}

/** The chain of span names from `span` up to the root, nearest first. */
export function ancestry(trace: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const chain: ReceivedSpan[] = [];
  for (let at = byId.get(span.parentSpanId); at !== undefined; at = byId.get(at.parentSpanId)) {
    assert.ok(!chain.includes(at), 'a cycle in parent links');
    chain.push(at);
  }
  return chain;
}

/**
 * The checks both modes share: every span hangs from the test's request through spans of the same
 * trace (no orphan, no second root), and the email attempt and the stream push descend, in order,
 * from the notifications consumer, the relay's publish, the payments request and the gateway.
 */
export function assertOnePaymentTrace(whole: readonly ReceivedSpan[], payment: PaymentUnderTrace): void {
  // The test's own span (embedded mode) is where the trace starts, not part of the platform's.
  const trace = whole.filter((span) => span.spanId !== payment.clientSpanId);
  const ids = new Set(trace.map((span) => span.spanId));
  const orphans = trace.filter((span) => span.parentSpanId !== payment.clientSpanId && !ids.has(span.parentSpanId));
  assert.deepEqual(orphans.map((span) => span.name), [], 'every span has its parent in the trace');
  const roots = trace.filter((span) => span.parentSpanId === payment.clientSpanId);
  assert.equal(roots.length, 1, `one span answers the test's request: ${roots.map((span) => span.name).join(', ')}`);
  // Embedded mode: the test's traced fetch made a client span; the gateway's server span is below it.
  const gateway = roots[0]!.kind === 3 ? trace.filter((span) => span.parentSpanId === roots[0]!.spanId) : roots;
  assert.equal(gateway.length, 1, 'one request reached the gateway');
  assert.equal(gateway[0]!.kind, 2, 'the gateway receiving the request is a server span');

  const email = trace.find((span) => span.name === 'deliver email')!;
  const emailPath = ancestry(trace, email).map((span) => span.name);
  assertInOrder(emailPath, ['process payment.succeeded', 'publish payment.succeeded', 'POST /payments'], 'the email attempt descends from the consumer, the publish and the payment request');
  const push = trace.find((span) => span.name === 'sse push')!;
  const pushPath = ancestry(trace, push).map((span) => span.name);
  assertInOrder(pushPath, ['process inbox.changed', 'publish inbox.changed', 'process payment.succeeded', 'publish payment.succeeded', 'POST /payments'], 'the stream push descends from the inbox change the payment event made');

  // The payment request passed through the gateway: two server spans for POST /payments, the
  // payments service's below the gateway's, with the gateway's outgoing call between them.
  const servers = trace.filter((span) => span.kind === 2 && span.name.startsWith('POST'));
  assert.ok(servers.length >= 2, `the gateway's and payments' server spans: ${describeTrace(trace)}`);
  const paymentsServer = servers.find((span) => ancestry(trace, span).some((above) => above.kind === 3))!;
  assert.ok(paymentsServer !== undefined, 'payments\' server span is below the gateway\'s outgoing call');
  const publish = trace.find((span) => span.name === 'publish payment.succeeded')!;
  assert.ok(ancestry(trace, publish).includes(paymentsServer), 'the publish continues the payments request');
  assert.equal(publish.kind, 4, 'the publish is a producer span');
  assert.equal(trace.find((span) => span.name === 'process payment.succeeded')!.kind, 5, 'the consumer\'s span is a consumer span');
}

/** `expected` appear in `path` in this order (other spans may sit between them). */
function assertInOrder(path: readonly string[], expected: readonly string[], message: string): void {
  let at = 0;
  for (const name of path) if (name === expected[at]) at++;
  assert.equal(at, expected.length, `${message}: ${path.join(' ← ')}`);
}

export function describeTrace(trace: readonly ReceivedSpan[]): string {
  return trace.map((span) => `${span.service}:${span.name}(${span.spanId}<-${span.parentSpanId || 'root'})`).join(', ');
}

/** The trace as an indented tree (service, name, kind), for the test's diagnostics and the docs. */
export function treeOf(trace: readonly ReceivedSpan[], rootParentId: string): string {
  const kinds = ['', 'internal', 'server', 'client', 'producer', 'consumer'];
  const lines: string[] = [];
  const walk = (parentId: string, depth: number) => {
    for (const span of trace.filter((s) => s.parentSpanId === parentId)) {
      lines.push(`${span.service.padEnd(14)}${'  '.repeat(depth)}${span.name} (${kinds[span.kind] ?? span.kind})`);
      if (depth < 40) walk(span.spanId, depth + 1);
    }
  };
  walk(rootParentId, 0);
  return lines.join('\n');
}
