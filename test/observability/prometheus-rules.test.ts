// The committed Prometheus configuration and rules, checked by promtool itself: both scrape
// configurations and the rule files are valid, the unit tests of deploy/prometheus/tests pass,
// every rule has one, every alert says what it means and where its runbook is, and the scrape
// targets are the documented metrics ports (the same the Kubernetes Services expose).
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { metricsPorts } from '@paymesh/platform/service-config';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { prometheusRule, prometheusRulePath } from '../../scripts/prometheus-rule.ts';
import { promtool, skipWithoutPromtool } from './promtool.ts';

const root = resolve(import.meta.dirname, '../..');
const prometheusDir = resolve(root, 'deploy/prometheus');
const ruleFiles = ['rules/paymesh.yml'];
const configs = ['prometheus.local.yml', 'prometheus.compose.yml'];

interface Rule { record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
const rules: Rule[] = ruleFiles.flatMap((file) => (parse(readFileSync(resolve(prometheusDir, file), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));
const alerts = rules.filter((r) => r.alert !== undefined);
const records = rules.filter((r) => r.record !== undefined);
const unitTests = parse(readFileSync(resolve(prometheusDir, 'tests/paymesh.test.yml'), 'utf8')) as {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[]; promql_expr_test?: { expr: string }[] }[];
};

describeOrSkip('prometheus configuration and rules (promtool)', skipWithoutPromtool(), () => {
  test('promtool check config accepts both scrape configurations, rule files included', () => {
    for (const config of configs) {
      const run = promtool(['check', 'config', config], { cwd: prometheusDir });
      assert.equal(run.status, 0, run.output);
      assert.match(run.output, /SUCCESS: 29 rules found/, run.output);
    }
  });

  test('promtool check rules accepts the rule files', () => {
    const run = promtool(['check', 'rules', ...ruleFiles], { cwd: prometheusDir });
    assert.equal(run.status, 0, run.output);
  });

  test('promtool test rules: every alert fires when it should, stays silent when not, with its labels and annotations', () => {
    const run = promtool(['test', 'rules', 'tests/paymesh.test.yml'], { cwd: prometheusDir });
    assert.equal(run.status, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });

  test('the unit tests fail when a rule is broken (a threshold raised out of reach)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'met-rules-'));
    try {
      cpSync(prometheusDir, dir, { recursive: true });
      const alertsFile = join(dir, 'rules/paymesh.yml');
      writeFileSync(alertsFile, readFileSync(alertsFile, 'utf8').replace('max by (service) (outbox_oldest_unpublished_age_seconds) > 300', 'max by (service) (outbox_oldest_unpublished_age_seconds) > 30000'));
      const run = promtool(['test', 'rules', 'tests/paymesh.test.yml'], { cwd: dir });
      assert.notEqual(run.status, 0);
      assert.match(run.output, /alertname: OutboxEventsStuck/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every alert has a test where it fires and one where it stays silent; every recording rule is evaluated', () => {
    const cases = unitTests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const { alert } of alerts) {
      assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0), `${alert} never fires in a test`);
      assert.ok(cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0), `${alert} is never shown silent`);
    }
    const exprs = unitTests.tests.flatMap((t) => t.promql_expr_test ?? []).map((e) => e.expr);
    for (const { record } of records) assert.ok(exprs.some((expr) => expr === record || expr.startsWith(`${record}{`)), `${record} is not evaluated by a test`);
  });
});

test('every alert has a severity, a summary, a description with its numbers and a runbook that exists', () => {
  assert.equal(alerts.length, 16);
  for (const alert of alerts) {
    assert.ok(['critical', 'warning'].includes(alert.labels?.severity ?? ''), `${alert.alert}: severity`);
    assert.ok((alert.annotations?.summary ?? '').length > 10, `${alert.alert}: summary`);
    // The description gives the measured value and the threshold it crossed (TargetDown's value is
    // always 0: its numbers are the instance and how long).
    if (alert.alert !== 'TargetDown') assert.match(alert.annotations?.description ?? '', /\$value/, `${alert.alert}: description without the value`);
    assert.match(alert.annotations?.description ?? '', /\d/, `${alert.alert}: description without the threshold`);
    const runbook = alert.annotations?.runbook_url ?? '';
    assert.match(runbook, /^docs\/runbooks\/[a-z0-9-]+\.md$/, `${alert.alert}: runbook_url`);
    assert.ok(existsSync(resolve(root, runbook)), `${alert.alert}: ${runbook} does not exist`);
    assert.match(readFileSync(resolve(root, runbook), 'utf8'), new RegExp(alert.alert!), `${runbook} does not mention ${alert.alert}`);
  }
});

test('the scrape targets are the documented metrics ports, the Kubernetes Services expose them as `metrics`', () => {
  for (const [config, host] of [['prometheus.local.yml', () => '127.0.0.1'], ['prometheus.compose.yml', (name: string) => name]] as const) {
    const parsed = parse(readFileSync(resolve(prometheusDir, config), 'utf8')) as { scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[] };
    const targets = Object.fromEntries(parsed.scrape_configs.map((s) => [s.job_name, s.static_configs.flatMap((c) => c.targets)]));
    assert.deepEqual(targets, Object.fromEntries(Object.entries(metricsPorts).map(([name, port]) => [name, [`${host(name)}:${port}`]])), config);
  }
  for (const [name, port] of Object.entries(metricsPorts)) {
    const manifest = readFileSync(resolve(root, `deploy/kubernetes/base/${name}.yaml`), 'utf8');
    assert.ok(manifest.includes(`{ name: metrics, port: ${port}, targetPort: metrics, protocol: TCP }`), `${name}: Service port metrics ${port}`);
  }
  const monitor = parse(readFileSync(resolve(root, 'deploy/kubernetes/components/prometheus-operator/service-monitor.yaml'), 'utf8')) as { spec: { endpoints: { port: string; path: string }[] } };
  assert.deepEqual(monitor.spec.endpoints.map((e) => [e.port, e.path]), [['metrics', '/metrics']]);
});

test('the Kubernetes PrometheusRule carries exactly the rule files (run npm run prometheus:rule)', () => {
  assert.equal(readFileSync(prometheusRulePath, 'utf8'), prometheusRule());
  const rule = parse(readFileSync(prometheusRulePath, 'utf8')) as { spec: { groups: { rules: Rule[] }[] } };
  assert.deepEqual(rule.spec.groups.flatMap((g) => g.rules), rules);
});
