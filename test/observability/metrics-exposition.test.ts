// What every metrics endpoint exposes after real traffic (sign-ups, logins good and bad, a service's
// client_credentials token, payments succeeded and declined, a declined top-up, a refund, a custom
// notification, an open inbox stream, the OIDC endpoints): promtool finds nothing to say about it
// but the seed's payment_request_count (kept by the compatibility contract) and the semantic
// convention's db_client_connection_count, no label carries a user id, a username, a payment id or
// a raw path, the series the dashboards read have values the traffic explains, and every series
// the alert and recording rules read exists. Embedded mode: the five endpoints of one process, on
// PGlite, and on PostgreSQL too when TEST_DATABASE_URL is set.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import * as oidc from 'openid-client';
import { backends, eventually, serviceClientsEnv, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { promtool, skipWithoutPromtool } from './promtool.ts';
import { rotateSigningKey } from '../../services/auth/src/keys/load-signing-keys.ts';
import { authorizeCode, discover, issuerOf } from '../../services/auth/test/sign-in.ts';

const rulesDir = resolve(import.meta.dirname, '../../deploy/prometheus/rules');

interface Sample { readonly name: string; readonly labels: Record<string, string>; readonly value: number }

/** The samples of a Prometheus text exposition (names and labels; values are not needed here). */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    out.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return out;
}

/** The value of the one sample of `name` carrying these labels (others may be there too). */
function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  const found = samples(text).filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

/** What promtool may say, and only this: the names other contracts fix (docs/observability.md). */
const expectedRemarks = [
  // promtool says two things of it: a counter without "_total", and a name ending in "_count".
  /^payment_request_count (counter metrics should have "_total" suffix|non-histogram and non-summary metrics should not have "_count" suffix)$/,
  /^db_client_connection_count non-histogram and non-summary metrics should not have "_count" suffix$/,
];

/** A first-party app signing in with the authorization code flow (the login page), then refreshing its token. */
const appRedirect = 'http://localhost:5173/callback';
const appClients = {
  OAUTH_CLIENTS: JSON.stringify([{ client_id: 'metrics-app', token_endpoint_auth_method: 'none', redirect_uris: [appRedirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], scope: 'openid offline_access payments:read' }]),
  FIRST_PARTY_CLIENTS: 'metrics-app',
};

async function signInAndRefresh(gatewayUrl: string, user: { username: string; password: string }): Promise<void> {
  const issuer = issuerOf(gatewayUrl);
  const config = await discover(issuer, 'metrics-app');
  const { callback, checks } = await authorizeCode(config, { issuer, redirectUri: appRedirect, user, params: { resource: 'urn:paymesh:payments', scope: 'openid offline_access payments:read' } });
  const tokens = await oidc.authorizationCodeGrant(config, callback, checks);
  await oidc.refreshTokenGrant(config, tokens.refresh_token!);
}

async function scrape(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  assert.equal(response.status, 200, url);
  return response.text();
}

for (const backend of backends()) describeOrSkip(`metrics exposition on ${backend}`, skipWithoutPromtool(), () => {
  let platform: TestPlatform;
  const endpoints: Record<string, string> = {};
  const texts: Record<string, string> = {};
  const secrets: string[] = [];
  /** An inbox stream held open while the endpoints are scraped. */
  const stream = new AbortController();

  before(async () => {
    const clientSecret = randomBytes(16).toString('hex');
    platform = await startTestPlatform(backend, { env: { ...serviceClientsEnv({ payments: clientSecret }), ...appClients } });
    const { api } = platform;
    const alice = await api.signUp();
    const admin = await api.adminToken();
    secrets.push(alice.username, String(alice.id));
    // Logins: a failure, then a success (signUp logged in once already).
    assert.equal((await api.call('POST', '/auth/login', { json: { username: alice.username, password: 'wrong-password-0' } })).status, 401);
    await api.login(alice.username, alice.password);
    // Payments: one succeeded, one declined by the test card, one refunded.
    const paid = await api.call('POST', '/payments', { token: alice.token, json: { amount: 5, user_id: alice.id }, headers: { 'idempotency-key': randomUUID() } });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    // The contract's answer: { payment: {...} }.
    const paymentId: string = paid.body.payment.id;
    secrets.push(paymentId);
    const declined = await api.call('POST', '/payments', { token: alice.token, json: { amount: '3.10', user_id: alice.id, payment_method: 'pm_card_visa_chargeDeclined' }, headers: { 'idempotency-key': randomUUID() } });
    assert.equal(declined.status, 402, JSON.stringify(declined.body));
    // A top-up is a card attempt too: its decline is counted by its code.
    const topUp = await api.call('POST', '/wallet/top-ups', { token: alice.token, json: { amount: '2.00', payment_method: 'pm_card_chargeDeclinedExpiredCard' }, headers: { 'idempotency-key': randomUUID() } });
    assert.equal(topUp.status, 402, JSON.stringify(topUp.body));
    // A service's token, from the token endpoint.
    const basic = `Basic ${Buffer.from(`payments-service:${clientSecret}`).toString('base64')}`;
    const granted = await api.call('POST', '/auth/token', { headers: { authorization: basic }, form: { grant_type: 'client_credentials', scope: 'users:read', resource: 'urn:paymesh:users' } });
    assert.equal(granted.status, 200, JSON.stringify(granted.body));
    // An app's tokens: one from its authorization code, one from its refresh token.
    await signInAndRefresh(platform.gatewayUrl, alice);
    // A message of a type outside the catalogue (any name an admin picks): one label value for all such.
    const custom = await api.call('POST', '/notifications', { token: admin, json: { user_id: alice.id, message: 'Maintenance tonight.', type: `ops.window_${randomBytes(3).toString('hex')}` } });
    assert.equal(custom.status, 201, JSON.stringify(custom.body));
    // An inbox stream, open until the last test closes it; its first bytes say it is registered.
    const live = await fetch(`${platform.gatewayUrl}/notifications/stream`, { headers: { authorization: `Bearer ${alice.token}`, accept: 'text/event-stream' }, signal: stream.signal });
    assert.equal(live.status, 200);
    await live.body!.getReader().read();
    const refund = await api.call('POST', `/payments/${paymentId}/refunds`, { token: admin, json: {}, headers: { 'idempotency-key': randomUUID() } });
    assert.equal(refund.status, 200, JSON.stringify(refund.body));
    assert.equal((await api.call('GET', `/payments/${paymentId}`, { token: admin })).status, 200);
    // The OIDC provider's own endpoints, and a path nobody serves.
    for (const path of ['/auth/.well-known/openid-configuration', '/auth/jwks']) assert.equal((await api.call('GET', path)).status, 200, path);
    assert.equal((await api.call('POST', '/auth/token', { form: { grant_type: 'client_credentials', client_id: 'no-such-client', client_secret: 'x' } })).status, 401);
    assert.equal((await api.call('GET', `/no/such/${paymentId}`)).status, 404);
    await api.call('GET', '/notifications/', { token: alice.token });
    await platform.settle();
    const embedded = platform.embedded!;
    for (const name of ['auth', 'users', 'payments', 'notifications'] as const) endpoints[name] = embedded.services[name].metricsUrl;
    endpoints.gateway = `http://127.0.0.1:${embedded.plan.gatewayMetrics}/metrics`;
    for (const [name, url] of Object.entries(endpoints)) texts[name] = await scrape(url);
  });
  after(async () => {
    stream.abort();
    await platform?.stop();
  });

  test('promtool check metrics reports nothing on any endpoint but the two names fixed elsewhere', () => {
    for (const [name, text] of Object.entries(texts)) {
      const run = promtool(['check', 'metrics'], { input: text });
      const problems = run.output.split('\n').filter((line) => line.trim() !== '' && !expectedRemarks.some((remark) => remark.test(line)));
      assert.deepEqual(problems, [], `${name}: ${run.output}`);
    }
    // The services' pools are under OpenTelemetry's name, which promtool reads as a misnamed counter part.
    for (const name of ['auth', 'users', 'payments', 'notifications']) {
      const lines = promtool(['check', 'metrics'], { input: texts[name] }).output.split('\n');
      assert.ok(lines.some((line) => expectedRemarks[1]!.test(line)), name);
    }
    // The contract's counter, and its conventional twin is beside it.
    assert.match(promtool(['check', 'metrics'], { input: texts.payments }).output, /^payment_request_count counter metrics should have "_total" suffix/m);
    assert.match(texts.payments!, /^payment_requests_total\{[^}]*\} [1-9]/m);
    assert.match(texts.payments!, /^payment_request_count\{[^}]*\} [1-9]/m);
  });

  test('no label takes a user id, username, payment id or raw path', () => {
    const all = Object.entries(texts).flatMap(([endpoint, text]) => samples(text).map((sample) => ({ endpoint, ...sample })));
    assert.ok(all.length > 100);
    for (const sample of all) {
      for (const [label, value] of Object.entries(sample.labels)) {
        // Bucket bounds and quantiles are numbers the code chose (le="2" is no user 2).
        if (label === 'le' || label === 'quantile') continue;
        // Short secrets (a numeric user id) are compared whole; a label value like "2xx" holds a "2".
        for (const secret of secrets) assert.ok(secret.length < 6 ? value !== secret : !value.includes(secret), `${sample.endpoint} ${sample.name}{${label}="${value}"} carries ${secret}`);
        if (label === 'route') assert.match(value, /^(unmatched|\/[A-Za-z0-9_.\-/:*]*)$/, `${sample.name} route ${value}`);
      }
    }
    // Route labels are templates: the payment read and the refund are one series each, whatever the id.
    const routes = new Set(all.filter((s) => s.name === 'http_server_requests_total').map((s) => `${s.endpoint} ${s.labels.method} ${s.labels.route} ${s.labels.status_class}`));
    for (const expected of ['payments GET /payments/:id 2xx', 'payments POST /payments/:id/refunds 2xx', 'payments POST /payments 4xx', 'gateway GET unmatched 4xx']) {
      assert.ok(routes.has(expected), `${expected} not among ${[...routes].join(', ')}`);
    }
    // A label's distinct values stay few (20 at most per metric and label, route aside; V8's heap
    // spaces are 13): an id or a path would take one value per request.
    const values = new Map<string, Set<string>>();
    for (const sample of all) for (const [label, value] of Object.entries(sample.labels)) {
      if (label === 'route' || label === 'le' || label === 'quantile') continue;
      const key = `${sample.name}/${label}`;
      values.set(key, (values.get(key) ?? new Set()).add(value));
    }
    for (const [key, set] of values) assert.ok(set.size <= 20, `${key} takes ${set.size} values: ${[...set].join(', ')}`);
  });

  test("auth's OIDC endpoints are recorded with their route template, not as unmatched", () => {
    for (const route of ['/auth/.well-known/openid-configuration', '/auth/jwks', '/auth/token']) {
      assert.match(texts.auth!, new RegExp(`^http_server_requests_total\\{[^}]*route="${route.replaceAll('.', '\\.')}"[^}]*\\} [1-9]`, 'm'), route);
    }
  });

  test('the domain metrics are there: logins, payments, outbox, consumers, deliveries, ledger, JWKS', () => {
    const positive = (endpoint: string, name: string, labels: Record<string, string>) => {
      const value = valueOf(texts[endpoint]!, name, labels);
      assert.ok(value !== undefined && value > 0, `${endpoint} ${name} ${JSON.stringify(labels)} = ${value}`);
      return value;
    };
    positive('auth', 'auth_login_attempts_total', { outcome: 'failed' });
    positive('auth', 'auth_login_attempts_total', { outcome: 'succeeded' });
    positive('payments', 'payments_total', { status: 'succeeded', currency: 'USD' });
    positive('payments', 'payments_total', { status: 'failed', currency: 'USD' });
    assert.equal(positive('payments', 'payment_amount_minor_total', { currency: 'USD' }), 500);
    assert.equal(positive('payments', 'refund_amount_minor_total', { currency: 'USD' }), 500);
    assert.equal(valueOf(texts.payments!, 'payment_requests_total', {}), valueOf(texts.payments!, 'payment_request_count', {}), 'the twin counts the same requests');
    for (const name of ['auth', 'users', 'payments', 'notifications']) {
      assert.equal(valueOf(texts[name]!, 'outbox_backlog_events', {}), 0, name);
      assert.equal(valueOf(texts[name]!, 'outbox_oldest_unpublished_age_seconds', {}), 0, name);
    }
    positive('notifications', 'events_consume_lag_seconds_count', { consumer: 'notifications', subject: 'payment.succeeded' });
    assert.equal(valueOf(texts.notifications!, 'notification_deliveries', { channel: 'webhook', status: 'dead' }), 0);
    // A service verifying a token fetched auth's keys once at least.
    assert.ok(Object.values(texts).some((text) => (valueOf(text, 'jwks_refreshes_total', { outcome: 'ok' }) ?? 0) > 0), 'jwks_refreshes_total{outcome="ok"} somewhere');
  });

  test('the series the dashboards read follow the traffic: declines, tokens, signing keys, inbox, connections', () => {
    const value = (endpoint: string, name: string, labels: Record<string, string> = {}) => valueOf(texts[endpoint]!, name, labels);
    // One declined payment, one declined top-up, each under its processor's code.
    assert.equal(value('payments', 'payment_declines_total', { code: 'generic_decline' }), 1);
    assert.equal(value('payments', 'payment_declines_total', { code: 'expired_card' }), 1);
    // Three password logins succeeded (sign-up's, the explicit one, the admin's); one service token at least.
    assert.ok((value('auth', 'auth_tokens_issued_total', { grant_type: 'password_login' }) ?? 0) >= 3, texts.auth);
    assert.ok((value('auth', 'auth_tokens_issued_total', { grant_type: 'client_credentials' }) ?? 0) >= 1);
    assert.equal(value('auth', 'auth_tokens_issued_total', { grant_type: 'authorization_code' }), 1);
    assert.equal(value('auth', 'auth_tokens_issued_total', { grant_type: 'refresh_token' }), 1);
    assert.equal(value('auth', 'auth_tokens_issued_total', { grant_type: 'other' }), undefined);
    // The first key, made when auth started, signs.
    assert.equal(value('auth', 'auth_signing_keys'), 1);
    const age = value('auth', 'auth_signing_key_age_seconds')!;
    assert.ok(age > 0 && age < 600, `signing key age ${age}`);
    // The payment, the failure and the refund each wrote to the payer's inbox; the custom type is "custom".
    for (const type of ['payment.succeeded', 'payment.failed', 'refund.succeeded', 'custom']) {
      assert.equal(value('notifications', 'inbox_notifications_created_total', { type }), 1, type);
    }
    assert.equal(value('notifications', 'inbox_stream_connections'), 1);
    // The same stream at the gateway, in its own pool; the API requests all finished, none refused.
    assert.equal(value('gateway', 'gateway_open_streams'), 1);
    assert.equal(value('gateway', 'gateway_upstream_requests_in_flight', { pool: 'payments' }), 0);
    assert.equal(value('gateway', 'gateway_pool_refusals_total'), undefined);
    // Every service's own pool: on PGlite its one connection, on PostgreSQL what the pool opened.
    for (const name of ['auth', 'users', 'payments', 'notifications']) {
      const used = value(name, 'db_client_connection_count', { state: 'used' })!;
      const idle = value(name, 'db_client_connection_count', { state: 'idle' })!;
      const pending = value(name, 'db_client_connection_pending_requests')!;
      if (backend === 'pglite') assert.equal(used + idle, 1, name);
      else assert.ok(used + idle >= 1 && used + idle <= 10, `${name}: ${used} used, ${idle} idle`);
      // Callers waiting for the connection (on PGlite, for their turn: ADR 31): a job may be running at the scrape.
      assert.ok(pending >= 0, name);
    }
    assert.equal(value('gateway', 'db_client_connection_count', { state: 'idle' }), undefined, 'the gateway has no database');
  });

  test('a rotation shows as the signing key count rising and the signing key age dropping', async () => {
    const before = valueOf(texts.auth!, 'auth_signing_key_age_seconds', {})!;
    await rotateSigningKey(platform.service('auth').runtime.database.db, 0);
    const text = await scrape(endpoints.auth!);
    assert.equal(valueOf(text, 'auth_signing_keys', {}), 2);
    const after = valueOf(text, 'auth_signing_key_age_seconds', {})!;
    assert.ok(after < before, `age ${before} s before the rotation, ${after} s after`);
  });

  test('a closed inbox stream leaves inbox_stream_connections', async () => {
    stream.abort();
    await eventually(async () => (valueOf(await scrape(endpoints.notifications!), 'inbox_stream_connections', {}) === 0 ? true : undefined));
  });

  test('every metric the alert and recording rules read is exposed', () => {
    // Declared (# TYPE) counts: a labelled counter nothing incremented yet has no sample.
    const exposed = new Set(Object.values(texts).flatMap((text) => [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!])));
    const recorded = new Set<string>();
    const read = new Set<string>();
    for (const file of readdirSync(rulesDir).filter((f) => f.endsWith('.yml') && !f.endsWith('.test.yml'))) {
      const text = readFileSync(resolve(rulesDir, file), 'utf8');
      for (const m of text.matchAll(/^\s*- record: (\S+)/gm)) recorded.add(m[1]!);
      for (const m of text.matchAll(/^\s*expr: (.*)$/gm)) for (const name of m[1]!.matchAll(/\b([a-z_][a-z0-9_]*(?::[a-z0-9_]+)*)\s*(?=\{|\[|\)|\s|$)/g)) read.add(name[1]!);
    }
    const promqlWords = new Set(['sum', 'rate', 'increase', 'by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'histogram_quantile', 'max', 'min', 'avg', 'count', 'le', 'up', 'time', 'offset', 'bool', 'clamp_min', 'absent', 'deriv', 'delta', 'max_over_time', 'min_over_time', 'avg_over_time', 'group_left', 'vector', 'job', 'service', 'route', 'method', 'status_class', 'outcome', 'channel', 'status', 'consumer', 'subject', 'scope', 'result', 'reason', 'instance', 'namespace', 'pool']);
    const missing = [...read].filter((name) => !promqlWords.has(name) && !recorded.has(name) && !exposed.has(name) && !exposed.has(`${name}_bucket`));
    assert.ok(read.size > 5, 'the rules were read');
    assert.deepEqual(missing, [], `read by the rules but exposed nowhere: ${missing.join(', ')}`);
  });
});
