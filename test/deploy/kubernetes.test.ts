// The Kubernetes manifests (deploy/kubernetes) checked without a cluster: there is no API server on
// these machines. Every overlay and component is rendered by `kubectl kustomize`, every object is
// validated against the Kubernetes OpenAPI schemas (unknown fields refused), and the rules of the
// manifests (policies.ts) hold; each rule is also shown to fail on a manifest broken on purpose.
// Skips without kubectl, unless REQUIRE_KUBECTL=1 (CI) says it must run.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { before, test } from 'node:test';
import { createHttpServer } from '@paymesh/platform/http-server';
import { createLogger } from '@paymesh/platform/logger';
import { createMetrics } from '@paymesh/platform/metrics';
import { describeOrSkip } from '@paymesh/platform/testing/describe-or-skip';
import { connectionAllowed, platformWorkloads, policyFindings, rules, type Profile } from './kubernetes/policies.ts';
import { secretReferences, workloads, type Workload } from './kubernetes/pod-env.ts';
import { committedDashboards } from '../observability/dashboard-queries.ts';
import { components, kubectlMissing, renderOverlay, renderWithComponents, type K8sObject } from './kubernetes/render.ts';
import { SchemaChecker } from './kubernetes/schema-errors.ts';
import { offlineTestSecrets } from './kubernetes/test-secrets.ts';

const missing = await kubectlMissing();
if (missing !== false && process.env.REQUIRE_KUBECTL === '1') throw new Error(`REQUIRE_KUBECTL=1 but ${missing}`);

interface Rendering {
  readonly name: string;
  readonly profile: Profile;
  readonly objects: K8sObject[];
}

describeOrSkip('Kubernetes manifests, offline', missing, () => {
  const renderings: Rendering[] = [];
  let schemas: SchemaChecker;
  const production = () => renderings.find((r) => r.name === 'production')!.objects;
  const withEverything = () => renderings.find((r) => r.name === 'production + every component')!.objects;

  before(async () => {
    renderings.push(...(await Promise.all([
      renderOverlay('dev').then((objects): Rendering => ({ name: 'dev', profile: 'dev', objects })),
      renderOverlay('production').then((objects): Rendering => ({ name: 'production', profile: 'production', objects })),
      ...components.map((component) => renderWithComponents('production', [component]).then((objects): Rendering => ({ name: `production + ${component}`, profile: 'production', objects }))),
      renderWithComponents('production', components).then((objects): Rendering => ({ name: 'production + every component', profile: 'production', objects })),
    ])));
    schemas = await SchemaChecker.for(renderings.flatMap((r) => r.objects));
  });

  test('every overlay and component renders, the five parts in each', () => {
    for (const { name, objects } of renderings) {
      assert.deepEqual(platformWorkloads(objects).map((w) => w.part).sort(), ['auth', 'gateway', 'notifications', 'payments', 'users'], name);
    }
    const kinds = (name: string) => new Set(renderings.find((r) => r.name === name)!.objects.map((o) => o.kind));
    assert.ok(kinds('production + postgresql-cnpg').has('Cluster'));
    assert.ok(kinds('production + nats').has('StatefulSet'));
    assert.ok(kinds('production + prometheus-operator').has('ServiceMonitor'));
  });

  test('the prometheus-operator component carries every Grafana dashboard as a ConfigMap for the sidecar, as committed', () => {
    const objects = renderings.find((r) => r.name === 'production + prometheus-operator')!.objects;
    const maps = objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1') as (K8sObject & { data: Record<string, string> })[];
    const dashboards = committedDashboards();
    assert.deepEqual(maps.map((m) => Object.keys(m.data)).flat().sort(), dashboards.map((d) => d.file), 'one ConfigMap a dashboard file');
    for (const map of maps) {
      assert.equal(map.metadata.annotations?.grafana_folder, 'Paymesh', map.metadata.name);
      assert.equal(Object.keys(map.data).length, 1, map.metadata.name);
      const [file, text] = Object.entries(map.data)[0]!;
      assert.equal(text, dashboards.find((d) => d.file === file)!.text, `${map.metadata.name} holds deploy/grafana/dashboards/${file} as committed`);
    }
    assert.ok(!production().some((o) => o.metadata.labels?.grafana_dashboard === '1'), 'only with the component');
  });

  test('every rendered object validates against the Kubernetes OpenAPI schemas, unknown fields refused', () => {
    for (const { name, objects } of renderings) {
      assert.deepEqual(objects.flatMap((o) => schemas.errors(o)), [], name);
    }
  });

  test('the schema check refuses a misspelled field, a wrong type and an unknown field of a CRD', () => {
    const deployment = structuredClone(production().find((o) => o.kind === 'Deployment')!) as Workload;
    const container = deployment.spec.template.spec.containers[0]! as unknown as Record<string, unknown>;
    container.readinesProbe = container.readinessProbe;
    delete container.readinessProbe;
    (deployment.spec as Record<string, unknown>).replicas = 'two';
    const messages = schemas.errors(deployment).map((e) => e.message);
    assert.ok(messages.some((m) => m.includes('readinesProbe: unknown field')), messages.join('\n'));
    assert.ok(messages.some((m) => m.includes('replicas must be integer')), messages.join('\n'));

    const cluster = structuredClone(withEverything().find((o) => o.kind === 'Cluster')!) as K8sObject & { spec: Record<string, unknown> };
    cluster.spec.instance = 3;
    assert.ok(schemas.errors(cluster).some((e) => e.message.includes('unknown field instance')));
    const policy = structuredClone(production().find((o) => o.kind === 'NetworkPolicy')!) as K8sObject & { spec: Record<string, unknown> };
    policy.spec.podSelectr = {};
    assert.ok(schemas.errors(policy).some((e) => e.message.includes('podSelectr: unknown field')));
  });

  test('every overlay and component keeps every rule', () => {
    for (const { name, profile, objects } of renderings) {
      assert.deepEqual(policyFindings(objects, { profile, secrets: offlineTestSecrets() }), [], name);
    }
  });

  // Each rule, shown to catch what it is for: the production rendering with every component,
  // broken in one way, must get a finding from that rule.
  const breaks: Record<string, (objects: K8sObject[]) => void> = {
    'runs as a numeric non-root user': (objects) => {
      container(objects, 'payments').securityContext!.runAsUser = 0;
    },
    'root filesystem read-only': (objects) => {
      container(objects, 'users').securityContext!.readOnlyRootFilesystem = false;
    },
    'no privilege escalation': (objects) => {
      delete container(objects, 'auth').securityContext!.allowPrivilegeEscalation;
    },
    'all capabilities dropped': (objects) => {
      container(objects, 'gateway').securityContext!.capabilities = { drop: ['ALL'], add: ['NET_BIND_SERVICE'] };
    },
    'seccomp profile RuntimeDefault': (objects) => {
      const w = workload(objects, 'notifications');
      delete w.spec.template.spec.securityContext!.seccompProfile;
      delete w.spec.template.spec.containers[0]!.securityContext!.seccompProfile;
    },
    'no service account token mounted': (objects) => {
      delete workload(objects, 'payments').spec.template.spec.automountServiceAccountToken;
    },
    'writable /tmp from an emptyDir': (objects) => {
      container(objects, 'auth').volumeMounts = [];
    },
    'probes on the health endpoints': (objects) => {
      container(objects, 'users').readinessProbe!.httpGet!.path = '/ready';
      container(objects, 'auth').livenessProbe!.httpGet!.port = 'metrics';
    },
    'ports as the service listens': (objects) => {
      container(objects, 'payments').ports![0]!.containerPort = 3999;
    },
    'each service configured completely': (objects) => {
      const c = container(objects, 'payments');
      c.env = c.env!.filter((e) => e.name !== 'PAYMENTS_FINGERPRINT_KEY');
    },
    'secrets only by reference': (objects) => {
      container(objects, 'users').env!.push({ name: 'DATABASE_URL', value: 'postgres://users:hunter2@db/users' });
    },
    'images named and pinned': (objects) => {
      container(objects, 'gateway').image = 'paymesh/gateway:latest';
    },
    'graceful stop within the grace period': (objects) => {
      workload(objects, 'notifications').spec.template.spec.terminationGracePeriodSeconds = 10;
    },
    'requests and limits': (objects) => {
      delete container(objects, 'auth').resources!.limits;
    },
    'two replicas at least, autoscaled': (objects) => {
      const index = objects.findIndex((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'users');
      objects.splice(index, 1);
    },
    'a disruption budget': (objects) => {
      const index = objects.findIndex((o) => o.kind === 'PodDisruptionBudget' && o.metadata.name === 'payments');
      objects.splice(index, 1);
    },
    'spread over nodes and zones': (objects) => {
      delete workload(objects, 'gateway').spec.template.spec.topologySpreadConstraints;
    },
    'default deny': (objects) => {
      objects.splice(objects.findIndex((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny'), 1);
    },
    'exactly the flows the platform uses': (objects) => {
      // payments never calls notifications: a policy letting it is too open.
      const policy = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'notifications') as K8sObject & { spec: { ingress: { from: unknown[] }[] } };
      policy.spec.ingress[0]!.from.push({ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'payments' } } });
      const payments = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'payments') as K8sObject & { spec: { egress: unknown[] } };
      payments.spec.egress.push({ to: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'notifications' } } }], ports: [{ protocol: 'TCP', port: 'http' }] });
    },
    'DNS, datastores and scraping allowed': (objects) => {
      objects.splice(objects.findIndex((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'allow-dns'), 1);
    },
    "the Ingress routes the gateway's prefixes to the gateway": (objects) => {
      const ingress = objects.find((o) => o.kind === 'Ingress') as K8sObject & { spec: { rules: { http: { paths: unknown[] } }[] } };
      ingress.spec.rules[0]!.http.paths.push({ path: '/users/internal', pathType: 'Prefix', backend: { service: { name: 'users', port: { name: 'http' } } } });
    },
  };

  test('every rule has a manifest broken on purpose', () => {
    assert.deepEqual(Object.keys(breaks).sort(), rules.map((r) => r.name).sort());
  });

  for (const rule of rules) {
    test(`the rule "${rule.name}" fails on a manifest that breaks it`, () => {
      const objects = structuredClone(withEverything());
      breaks[rule.name]!(objects);
      const found = rule.check(objects, { profile: 'production', secrets: offlineTestSecrets() });
      assert.ok(found.length > 0, `no finding for a manifest breaking "${rule.name}"`);
      assert.ok(found.every((f) => f.rule === rule.name));
    });
  }

  test('a missing flow is caught too: users refusing payments breaks payer checks', () => {
    const objects = structuredClone(production());
    const users = objects.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name === 'users') as K8sObject & { spec: { ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[] } };
    users.spec.ingress[0]!.from = users.spec.ingress[0]!.from.filter((peer) => peer.podSelector.matchLabels['app.kubernetes.io/name'] !== 'payments');
    const found = rules.find((r) => r.name === 'exactly the flows the platform uses')!.check(objects, { profile: 'production', secrets: offlineTestSecrets() });
    assert.deepEqual(found.map((f) => f.message), ['payments → users is used (its configuration names the URL) but not allowed']);
  });

  test('the in-cluster components replace the external datastores: services reach their pods, the gateway does not', () => {
    const objects = withEverything();
    const labels = (part: string) => workload(objects, part).spec.template.metadata.labels;
    const postgres = { 'cnpg.io/cluster': 'paymesh-postgres' };
    const nats = workloads(objects).find((w) => w.metadata.name === 'nats')!.spec.template.metadata.labels;
    for (const part of ['auth', 'users', 'payments', 'notifications']) {
      assert.ok(connectionAllowed(objects, labels(part), postgres, { number: 5432 }), `${part} → PostgreSQL`);
      assert.ok(connectionAllowed(objects, labels(part), nats, { name: 'client', number: 4222 }), `${part} → NATS`);
    }
    assert.ok(!connectionAllowed(objects, labels('gateway'), postgres, { number: 5432 }));
    assert.ok(!connectionAllowed(objects, labels('gateway'), nats, { name: 'client', number: 4222 }));
    assert.ok(connectionAllowed(objects, nats, nats, { name: 'cluster', number: 6222 }), 'NATS servers route to each other');
  });

  test('the probe paths the manifests name answer on a real service server', async () => {
    const paths = new Set(platformWorkloads(production()).flatMap(({ container: c }) => [c.startupProbe, c.readinessProbe, c.livenessProbe].map((p) => p!.httpGet!.path!)));
    const app = createHttpServer({ logger: createLogger('test', 'silent'), metrics: createMetrics('test'), readiness: [], trustedProxies: [] });
    try {
      for (const path of paths) assert.equal((await app.inject({ method: 'GET', url: path })).statusCode, 200, path);
    } finally {
      await app.close();
    }
  });

  test('every Secret name and key the manifests reference is documented in docs/deploy.md', () => {
    const docs = readFileSync(resolve(import.meta.dirname, '../../docs/deploy.md'), 'utf8');
    const section = docs.slice(docs.indexOf('## Secrets'), docs.indexOf('\n## ', docs.indexOf('## Secrets') + 1));
    for (const ref of secretReferences(withEverything())) {
      assert.ok(section.includes(`\`${ref.name}\``), `${ref.name} is named in the Secrets section`);
      assert.ok(section.includes(`\`${ref.key}\``), `${ref.name}/${ref.key} is documented`);
    }
  });
});

function workload(objects: readonly K8sObject[], part: string): Workload {
  return workloads(objects).find((w) => w.kind === 'Deployment' && w.metadata.name === part)!;
}

function container(objects: readonly K8sObject[], part: string) {
  return workload(objects, part).spec.template.spec.containers[0]!;
}
