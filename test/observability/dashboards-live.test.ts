// The dashboards proven against a real Prometheus: the platform under `npm run load` (payments
// succeeded, declined and 3-D Secure, captures, refunds, replays, logins good and bad until a
// lockout, inbox reads and live streams, email to an SMTP sink, webhooks accepted and refused until
// dead-lettered, Web Push), Debian's Prometheus scraping all five metrics endpoints with the
// repository's rules loaded, then every panel query of every generated dashboard (template
// variables set to "All") and every recording rule run through Prometheus' HTTP API: each must
// return at least one series. A panel that would show "No data" fails the test.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createECDH } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { adminPassword, backends, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { startSmtpSink, type SmtpSink } from '@paymesh/app/testing/smtp-sink';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { panelQueries, withAllSelected } from './dashboard-queries.ts';
import { LivePrometheus, skipWithoutPrometheus } from './prometheus-live.ts';

const root = resolve(import.meta.dirname, '../..');

/** A VAPID key pair (P-256, URL-safe base64), as `npx web-push generate-vapid-keys` makes. */
function vapidKeys(): { publicKey: string; privateKey: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { publicKey: ecdh.getPublicKey().toString('base64url'), privateKey: ecdh.getPrivateKey().toString('base64url') };
}

describeOrSkip('dashboards against a live Prometheus', skipWithoutPrometheus(), () => {
  let platform: TestPlatform;
  let smtp: SmtpSink;
  let prometheus: LivePrometheus | undefined;
  let load: { requests: number; unexpected: number; received: { webhooks: number; failedWebhooks: number; pushes: number } };

  before(async () => {
    smtp = await startSmtpSink();
    const vapid = vapidKeys();
    // The last backend: PostgreSQL and NATS in CI, PGlite on a newcomer's machine.
    platform = await startTestPlatform(backends().at(-1)!, {
      env: {
        SMTP_URL: smtp.url,
        WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        NOTIFICATIONS_RETRY_DELAYS: '200ms,200ms',
        PAYMENTS_INVARIANT_CHECK_SECONDS: '1',
        // The load's second wrong password for its target account locks it (the lockout panel).
        LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '1',
      },
    });
    const embedded = platform.embedded!;
    const targets: Record<string, string> = { gateway: `http://127.0.0.1:${embedded.plan.gatewayMetrics}/metrics` };
    for (const name of ['auth', 'users', 'payments', 'notifications'] as const) targets[name] = embedded.services[name].metricsUrl;
    prometheus = await LivePrometheus.start(targets);

    const child = spawn(process.execPath, [
      resolve(root, 'scripts/load.ts'), '--base-url', platform.gatewayUrl, '--duration', '8', '--concurrency', '4', '--users', '6',
      '--streams', '2', '--local-receivers', '--admin-password', adminPassword, '--progress-ms', '0', '--json', '--max-error-rate', '0',
    ], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const [code] = await once(child, 'exit');
    clearTimeout(timer);
    assert.equal(code, 0, `npm run load failed (${code}):\n${stderr}\n${stdout}`);
    load = JSON.parse(stdout);
    // Retries at 200 ms: the refused webhooks are dead letters a second later. Then let Prometheus
    // scrape what the last requests did and evaluate the rules on it.
    await platform.settle();
    await new Promise((r) => setTimeout(r, 4_000));
  });
  after(async () => {
    await prometheus?.stop();
    await platform?.stop();
    await smtp?.close();
  });

  test('the load reached every channel and had no unexpected answer', () => {
    // Time-bounded (8 s): a busy CI machine answers fewer; what matters is that every channel was reached.
    assert.ok(load.requests >= 20, `only ${load.requests} requests`);
    assert.equal(load.unexpected, 0);
    assert.ok(load.received.webhooks > 0 && load.received.failedWebhooks > 0 && load.received.pushes > 0, JSON.stringify(load.received));
    assert.ok(smtp.received.length > 0, 'no email reached the SMTP sink');
  });

  test('Prometheus scrapes every metrics endpoint', async () => {
    const up = await prometheus!.query('up');
    const jobs = Object.fromEntries((up.data?.result ?? []).map((s) => [s.metric.job, s.value?.[1]]));
    assert.deepEqual(jobs, { auth: '1', gateway: '1', notifications: '1', payments: '1', users: '1' }, prometheus!.output);
  });

  test('every recording rule has a value', async () => {
    const rules = parse(readFileSync(resolve(root, 'deploy/prometheus/rules/paymesh.yml'), 'utf8')) as { groups: { rules: { record?: string }[] }[] };
    const records = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record === undefined ? [] : [r.record])));
    assert.ok(records.length >= 10);
    const empty: string[] = [];
    for (const record of records) {
      const result = await prometheus!.query(record);
      if (result.status !== 'success' || (result.data?.result.length ?? 0) === 0) empty.push(`${record}: ${result.error ?? 'no series'}`);
    }
    assert.deepEqual(empty, [], `recording rules with no value:\n${empty.join('\n')}`);
  });

  test('every panel query of every dashboard returns data', async (t) => {
    const queries = panelQueries();
    const dashboards = new Set(queries.map((q) => q.dashboard));
    assert.ok(dashboards.size >= 5, `expected the five dashboards, found ${[...dashboards].join(', ')}`);
    const empty: string[] = [];
    const count = queries.length;
    for (const { dashboard, panel, expr } of queries) {
      // 30 s of 1-second scrapes: what Grafana's $__rate_interval would be for a short range.
      const query = withAllSelected(expr, '30s');
      const result = await prometheus!.query(query);
      const series = result.data?.result ?? [];
      if (result.status !== 'success' || series.length === 0) empty.push(`${dashboard} "${panel}": ${query}  →  ${result.error ?? 'no series'}`);
      else t.diagnostic(`${dashboard} "${panel}": ${query} → ${series.length} series, e.g. ${JSON.stringify(series[0])}`);
    }
    assert.ok(count >= 40, `only ${count} panel queries`);
    assert.deepEqual(empty, [], `panels that would show "No data":\n${empty.join('\n')}`);
  });
});
