// The rules the Kubernetes manifests keep (issue 14, ADR 20), checked on rendered objects. Each
// rule names itself in its findings; test/deploy/kubernetes.test.ts shows each one failing on a
// manifest broken on purpose. Facts about the platform (ports, settings, who calls whom, the
// gateway's routes) are read from the code, not restated here.
import { loadConfig, type ConfigSpec } from '@paymesh/platform/config';
import { authConfigSpec } from '../../../services/auth/src/config.ts';
import { gatewayConfigSpec } from '../../../services/gateway/src/config.ts';
import { gatewayExactPaths, gatewayPaths, routeTable } from '../../../services/gateway/src/service.ts';
import { notificationsConfigSpec } from '../../../services/notifications/src/config.ts';
import { paymentsConfigSpec } from '../../../services/payments/src/config.ts';
import { usersConfigSpec } from '../../../services/users/src/config.ts';
import { containerEnv, containerPort, EnvError, workloads, type Container, type SecretValues, type Workload } from './pod-env.ts';
import { objectId, type K8sObject } from './render.ts';

export const platformParts = ['auth', 'users', 'payments', 'notifications', 'gateway'] as const;
export type PlatformPart = (typeof platformParts)[number];
export const configSpecs: Record<PlatformPart, ConfigSpec> = { auth: authConfigSpec, users: usersConfigSpec, payments: paymentsConfigSpec, notifications: notificationsConfigSpec, gateway: gatewayConfigSpec };

export type Profile = 'dev' | 'production';

export interface Finding {
  readonly rule: string;
  readonly object: string;
  readonly message: string;
}

export interface PolicyContext {
  readonly profile: Profile;
  /** The Secrets the operator would create, to check that each service's environment is complete. */
  readonly secrets: SecretValues;
}

export interface Rule {
  readonly name: string;
  readonly profiles: readonly Profile[];
  check(objects: readonly K8sObject[], context: PolicyContext): Finding[];
}

type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: unknown[];
}

function selects(selector: Selector | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  if (selector.matchExpressions !== undefined && selector.matchExpressions.length > 0) throw new Error('matchExpressions are not evaluated by these checks: use matchLabels');
  return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

/** The platform's own Deployments, by the part each runs. */
export function platformWorkloads(objects: readonly K8sObject[]): { part: PlatformPart; workload: Workload; container: Container }[] {
  return workloads(objects).flatMap((workload) => {
    const part = workload.spec.template.metadata.labels['app.kubernetes.io/name'] as PlatformPart;
    if (!platformParts.includes(part) || workload.kind !== 'Deployment') return [];
    return [{ part, workload, container: workload.spec.template.spec.containers[0]! }];
  });
}

const finding = (rule: string, object: K8sObject, message: string): Finding => ({ rule, object: objectId(object), message });

/** A rule over each container of each pod template (the platform's and the components'). */
function perContainer(name: string, check: (container: Container, workload: Workload) => string[]): Rule {
  return {
    name,
    profiles: ['dev', 'production'],
    check: (objects) => workloads(objects).flatMap((w) => [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers].flatMap((c) => check(c, w).map((m) => finding(name, w, `${c.name}: ${m}`)))),
  };
}

const podOrContainer = <K extends keyof NonNullable<Container['securityContext']>>(c: Container, w: Workload, key: K) => c.securityContext?.[key] ?? w.spec.template.spec.securityContext?.[key];

/** The part whose configuration names another's URL calls it: AUTH_URL means JWKS and tokens from auth. */
export function expectedFlows(): Set<string> {
  const flows = new Set<string>();
  for (const part of platformParts) {
    for (const key of Object.values(configSpecs[part])) {
      const target = /^(AUTH|USERS|PAYMENTS|NOTIFICATIONS)_URL$/.exec(key.env)?.[1]?.toLowerCase();
      if (target !== undefined) flows.add(`${part} → ${target}`);
    }
  }
  return flows;
}

interface NetworkPolicy extends K8sObject {
  spec: {
    podSelector: Selector;
    policyTypes?: string[];
    ingress?: { from?: Peer[]; ports?: PolicyPort[] }[];
    egress?: { to?: Peer[]; ports?: PolicyPort[] }[];
  };
}
interface Peer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyPort {
  port?: number | string;
  protocol?: string;
}

const networkPolicies = (objects: readonly K8sObject[]) => objects.filter((o): o is NetworkPolicy => o.kind === 'NetworkPolicy');

function portAllowed(ports: PolicyPort[] | undefined, port: { name?: string; number: number; protocol: string }): boolean {
  if (ports === undefined || ports.length === 0) return true;
  return ports.some((p) => (p.protocol ?? 'TCP') === port.protocol && (p.port === undefined || p.port === port.number || (port.name !== undefined && p.port === port.name)));
}

/** Whether the policies let a pod with `from` labels open a TCP connection to `to`'s `port` in the same namespace. */
export function connectionAllowed(objects: readonly K8sObject[], from: Labels, to: Labels, port: { name?: string; number: number }): boolean {
  const tcp = { ...port, protocol: 'TCP' };
  const samePod = (peers: Peer[] | undefined, labels: Labels) => peers === undefined || peers.length === 0 || peers.some((peer) => peer.ipBlock === undefined && peer.namespaceSelector === undefined && selects(peer.podSelector, labels));
  const policies = networkPolicies(objects);
  const governs = (p: NetworkPolicy, type: string, labels: Labels) => selects(p.spec.podSelector, labels) && (p.spec.policyTypes ?? ['Ingress']).includes(type);
  const egressGoverned = policies.some((p) => governs(p, 'Egress', from));
  const ingressGoverned = policies.some((p) => governs(p, 'Ingress', to));
  const egress = !egressGoverned || policies.some((p) => governs(p, 'Egress', from) && (p.spec.egress ?? []).some((rule) => samePod(rule.to, to) && portAllowed(rule.ports, tcp)));
  const ingress = !ingressGoverned || policies.some((p) => governs(p, 'Ingress', to) && (p.spec.ingress ?? []).some((rule) => samePod(rule.from, from) && portAllowed(rule.ports, tcp)));
  return egress && ingress;
}

/** Whether `labels`' pods may send to some peer outside the platform's pods on `port` (an ipBlock or another selector). */
function egressAllowedTo(objects: readonly K8sObject[], labels: Labels, port: number, protocol: string, peer: (p: Peer) => boolean): boolean {
  return networkPolicies(objects).some((p) => selects(p.spec.podSelector, labels) && (p.spec.policyTypes ?? []).includes('Egress') && (p.spec.egress ?? []).some((rule) => (rule.to ?? []).some(peer) && portAllowed(rule.ports, { number: port, protocol })));
}

const isSecretName = (name: string) => /(^DATABASE_URL$|^NATS_URL$|^SMTP_URL$|SECRET|PASSWORD$|_KEYS?$|^SERVICE_CLIENTS$|_JSON$)/.test(name) && name !== 'BOOTSTRAP_ADMIN_PASSWORD_FILE' && name !== 'VAPID_PUBLIC_KEY' && name !== 'APNS_KEY_ID';

export const rules: readonly Rule[] = [
  perContainer('runs as a numeric non-root user', (c, w) => {
    const problems: string[] = [];
    if (podOrContainer(c, w, 'runAsNonRoot') !== true) problems.push('runAsNonRoot is not true');
    const user = podOrContainer(c, w, 'runAsUser');
    if (typeof user !== 'number' || user < 1000) problems.push(`runAsUser ${String(user)} is not a numeric id of 1000 or more`);
    return problems;
  }),
  perContainer('root filesystem read-only', (c) => (c.securityContext?.readOnlyRootFilesystem === true ? [] : ['readOnlyRootFilesystem is not true'])),
  perContainer('no privilege escalation', (c) => [
    ...(c.securityContext?.allowPrivilegeEscalation === false ? [] : ['allowPrivilegeEscalation is not false']),
    ...(c.securityContext?.privileged === true ? ['privileged'] : []),
  ]),
  perContainer('all capabilities dropped', (c) => [
    ...(c.securityContext?.capabilities?.drop?.includes('ALL') === true ? [] : ['capabilities.drop lacks ALL']),
    ...((c.securityContext?.capabilities?.add ?? []).length > 0 ? [`adds ${c.securityContext!.capabilities!.add!.join(', ')}`] : []),
  ]),
  perContainer('seccomp profile RuntimeDefault', (c, w) => (podOrContainer(c, w, 'seccompProfile')?.type === 'RuntimeDefault' ? [] : ['seccompProfile is not RuntimeDefault'])),
  {
    name: 'no service account token mounted',
    profiles: ['dev', 'production'],
    check: (objects) => [
      ...workloads(objects).filter((w) => w.spec.template.spec.automountServiceAccountToken !== false).map((w) => finding('no service account token mounted', w, 'the pod does not set automountServiceAccountToken: false')),
      ...objects.filter((o) => o.kind === 'ServiceAccount' && o.automountServiceAccountToken !== false).map((o) => finding('no service account token mounted', o, 'the ServiceAccount does not set automountServiceAccountToken: false')),
    ],
  },
  {
    name: 'writable /tmp from an emptyDir',
    profiles: ['dev', 'production'],
    check: (objects) => platformWorkloads(objects).flatMap(({ workload, container }) => {
      const mount = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
      const volume = workload.spec.template.spec.volumes?.find((v) => v.name === mount?.name);
      return volume?.emptyDir === undefined ? [finding('writable /tmp from an emptyDir', workload, 'no emptyDir is mounted at /tmp')] : [];
    }),
  },
  {
    name: 'probes on the health endpoints',
    profiles: ['dev', 'production'],
    check: (objects, context) => platformWorkloads(objects).flatMap(({ part, workload, container }) => {
      const problems: string[] = [];
      const env = safeEnv(objects, workload, container, context.secrets);
      const httpPort = Number(env[part === 'gateway' ? 'PORT' : 'HTTP_PORT']);
      const expected = { startupProbe: '/healthz', readinessProbe: '/readyz', livenessProbe: '/healthz' } as const;
      for (const [probe, path] of Object.entries(expected) as [keyof typeof expected, string][]) {
        const get = container[probe]?.httpGet;
        if (get === undefined) problems.push(`no ${probe} with httpGet`);
        else {
          if (get.path !== path) problems.push(`${probe} asks ${String(get.path)}, not ${path}`);
          if (containerPort(container, get.port) !== httpPort) problems.push(`${probe} port ${String(get.port)} is not the HTTP port ${httpPort} the service listens on`);
        }
      }
      return problems.map((m) => finding('probes on the health endpoints', workload, m));
    }),
  },
  {
    name: 'ports as the service listens',
    profiles: ['dev', 'production'],
    check: (objects, context) => platformWorkloads(objects).flatMap(({ part, workload, container }) => {
      const env = safeEnv(objects, workload, container, context.secrets);
      const problems: string[] = [];
      const port = (name: string) => container.ports?.find((p) => p.name === name)?.containerPort;
      if (port('http') !== Number(env[part === 'gateway' ? 'PORT' : 'HTTP_PORT'])) problems.push(`container port http ${String(port('http'))} is not the configured one`);
      if (port('metrics') !== Number(env.METRICS_PORT)) problems.push(`container port metrics ${String(port('metrics'))} is not METRICS_PORT ${env.METRICS_PORT}`);
      if (env.HOST !== '0.0.0.0') problems.push(`HOST is ${env.HOST}: the servers would not be reachable from other pods`);
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === part) as (K8sObject & { spec: { selector: Labels; ports: { name: string; targetPort: string | number }[] } }) | undefined;
      if (service === undefined) problems.push(`no Service ${part}`);
      else {
        if (!selects({ matchLabels: service.spec.selector }, workload.spec.template.metadata.labels)) problems.push(`Service ${part} does not select its pods`);
        for (const p of service.spec.ports) if (containerPort(container, p.targetPort) === undefined) problems.push(`Service port ${p.name} targets ${String(p.targetPort)}, which the container does not have`);
      }
      return problems.map((m) => finding('ports as the service listens', workload, m));
    }),
  },
  {
    name: 'each service configured completely',
    profiles: ['dev', 'production'],
    check: (objects, context) => platformWorkloads(objects).flatMap(({ part, workload, container }) => {
      const problems: string[] = [];
      let env: Record<string, string>;
      try {
        env = containerEnv(objects, workload, container, context.secrets);
      } catch (error) {
        if (!(error instanceof EnvError)) throw error;
        return [finding('each service configured completely', workload, error.message)];
      }
      const spec = configSpecs[part];
      const known = new Set(Object.values(spec).map((k) => k.env));
      for (const name of Object.keys(env)) if (!known.has(name)) problems.push(`${name} is not a setting of ${part}`);
      if (part !== 'gateway') {
        for (const name of ['DATABASE_URL', 'NATS_URL']) if (env[name] === undefined) problems.push(`${name} is not set: the service would fall back to embedded mode`);
      }
      // A key defaulting to a development secret or a path under var/ would be written to the
      // read-only image (and be a development secret in production).
      const covered: Record<string, string> = { DATA_DIR: 'DATABASE_URL', BOOTSTRAP_ADMIN_PASSWORD_FILE: 'BOOTSTRAP_ADMIN_PASSWORD' };
      for (const key of Object.values(spec)) {
        if (!/development|var\//.test(key.shownDefault) || env[key.env] !== undefined) continue;
        if (covered[key.env] !== undefined && env[covered[key.env]!] !== undefined) continue;
        problems.push(`${key.env} is not set: it would default to ${key.shownDefault}`);
      }
      if (part === 'users' && env.BOOTSTRAP_ADMIN_PASSWORD === undefined) problems.push('BOOTSTRAP_ADMIN_PASSWORD is not set: a generated one would be written under var/');
      if (problems.length === 0) {
        try {
          const { warnings } = loadConfig(spec, env);
          problems.push(...warnings);
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
      return problems.map((m) => finding('each service configured completely', workload, m));
    }),
  },
  {
    name: 'secrets only by reference',
    profiles: ['dev', 'production'],
    check: (objects) => [
      ...objects.filter((o) => o.kind === 'Secret').map((o) => finding('secrets only by reference', o, 'a Secret with its values is in the manifests')),
      ...objects.filter((o) => o.kind === 'ConfigMap').flatMap((o) => Object.keys((o as { data?: Labels }).data ?? {}).filter(isSecretName).map((key) => finding('secrets only by reference', o, `${key} is in a ConfigMap`))),
      ...workloads(objects).flatMap((w) => w.spec.template.spec.containers.flatMap((c) => (c.env ?? []).filter((e) => isSecretName(e.name) && e.valueFrom?.secretKeyRef === undefined).map((e) => finding('secrets only by reference', w, `${e.name} is not a secretKeyRef`)))),
    ],
  },
  {
    name: 'images named and pinned',
    profiles: ['dev', 'production'],
    check: (objects, context) => workloads(objects).flatMap((w) => w.spec.template.spec.containers.flatMap((c) => {
      const problems: string[] = [];
      const match = /^(?<repository>[^@]+?)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[0-9a-f]{64}))?$/.exec(c.image);
      const tag = match?.groups?.tag;
      if (match === null) problems.push(`image ${c.image} is not a valid reference`);
      else if (tag === undefined && match.groups?.digest === undefined) problems.push(`image ${c.image} has neither a tag nor a digest`);
      else if (context.profile === 'production' && tag === 'latest') problems.push(`image ${c.image} is :latest in production`);
      const part = w.spec.template.metadata.labels['app.kubernetes.io/name'];
      if (platformParts.includes(part as PlatformPart) && !new RegExp(`(^|/)paymesh[-/]${part}$`).test(match?.groups?.repository ?? '')) problems.push(`image ${c.image} is not paymesh's ${part} image`);
      return problems.map((m) => finding('images named and pinned', w, `${c.name}: ${m}`));
    })),
  },
  {
    name: 'graceful stop within the grace period',
    profiles: ['dev', 'production'],
    check: (objects, context) => platformWorkloads(objects).flatMap(({ workload, container }) => {
      const env = safeEnv(objects, workload, container, context.secrets);
      const pauseSec = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
      // The kit's own budget: drain, then twice the relay's grace before it exits anyway.
      const neededSec = pauseSec + Number(env.SHUTDOWN_DRAIN_MS ?? 1_000) / 1000 + (2 * Number(env.SHUTDOWN_GRACE_MS ?? 10_000)) / 1000;
      const graceSec = workload.spec.template.spec.terminationGracePeriodSeconds ?? 30;
      const problems: string[] = [];
      if (pauseSec === 0) problems.push('no preStop pause: requests routed before the endpoint is removed would meet a closed listener');
      if (graceSec < neededSec) problems.push(`terminationGracePeriodSeconds ${graceSec} is shorter than the ${neededSec} s a stop may take`);
      const strategy = (workload.spec as { strategy?: { rollingUpdate?: { maxUnavailable?: number | string } } }).strategy;
      if (strategy?.rollingUpdate?.maxUnavailable !== 0) problems.push('a rolling update may stop a pod before its replacement is ready (maxUnavailable is not 0)');
      return problems.map((m) => finding('graceful stop within the grace period', workload, m));
    }),
  },
  {
    name: 'requests and limits',
    profiles: ['production'],
    check: (objects) => workloads(objects).flatMap((w) => w.spec.template.spec.containers.flatMap((c) => {
      const missing = [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'cpu'], ['limits', 'memory']].filter(([kind, resource]) => c.resources?.[kind as 'requests' | 'limits']?.[resource!] === undefined);
      return missing.map(([kind, resource]) => finding('requests and limits', w, `${c.name}: no ${kind}.${resource}`));
    })),
  },
  {
    name: 'two replicas at least, autoscaled',
    profiles: ['production'],
    check: (objects) => platformWorkloads(objects).flatMap(({ workload }) => {
      const problems: string[] = [];
      if ((workload.spec.replicas ?? 1) < 2) problems.push(`replicas is ${workload.spec.replicas ?? 1}`);
      const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler' && (o as unknown as { spec: { scaleTargetRef: { kind: string; name: string } } }).spec.scaleTargetRef.kind === 'Deployment' && (o as unknown as { spec: { scaleTargetRef: { name: string } } }).spec.scaleTargetRef.name === workload.metadata.name) as (K8sObject & { spec: { minReplicas?: number; maxReplicas: number } }) | undefined;
      if (hpa === undefined) problems.push('no HorizontalPodAutoscaler scales it');
      else {
        if (hpa.apiVersion !== 'autoscaling/v2') problems.push(`its autoscaler is ${hpa.apiVersion}, not autoscaling/v2`);
        if ((hpa.spec.minReplicas ?? 1) < 2) problems.push(`its autoscaler may scale it down to ${hpa.spec.minReplicas ?? 1}`);
        if (hpa.spec.maxReplicas < (hpa.spec.minReplicas ?? 1)) problems.push('its autoscaler has maxReplicas below minReplicas');
      }
      return problems.map((m) => finding('two replicas at least, autoscaled', workload, m));
    }),
  },
  {
    name: 'a disruption budget',
    profiles: ['production'],
    check: (objects) => workloads(objects).flatMap((w) => {
      const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget' && selects((o as unknown as { spec: { selector: Selector } }).spec.selector, w.spec.template.metadata.labels)) as (K8sObject & { spec: { maxUnavailable?: number | string; minAvailable?: number | string } })[];
      if (budgets.length === 0) return [finding('a disruption budget', w, 'no PodDisruptionBudget covers its pods')];
      const replicas = w.spec.replicas ?? 1;
      const kept = budgets.some((b) => (typeof b.spec.maxUnavailable === 'number' && b.spec.maxUnavailable < replicas) || (typeof b.spec.minAvailable === 'number' && b.spec.minAvailable >= 1 && b.spec.minAvailable < replicas));
      return kept ? [] : [finding('a disruption budget', w, 'its budget neither keeps a pod running nor lets one be evicted')];
    }),
  },
  {
    name: 'spread over nodes and zones',
    profiles: ['production'],
    check: (objects) => workloads(objects).flatMap((w) => {
      const constraints = w.spec.template.spec.topologySpreadConstraints ?? [];
      const spreads = (key: string) => constraints.some((c) => c.topologyKey === key && selects(c.labelSelector, w.spec.template.metadata.labels));
      // The CloudNativePG operator spreads its own instances; StatefulSets and Deployments here must.
      const missing = ['kubernetes.io/hostname', ...(platformWorkloads([w]).length > 0 ? ['topology.kubernetes.io/zone'] : [])].filter((key) => !spreads(key));
      return missing.map((key) => finding('spread over nodes and zones', w, `no topology spread over ${key} selecting its own pods`));
    }),
  },
  {
    name: 'default deny',
    profiles: ['dev', 'production'],
    check: (objects) => {
      const denies = networkPolicies(objects).some((p) => Object.keys(p.spec.podSelector.matchLabels ?? {}).length === 0 && (p.spec.podSelector.matchExpressions ?? []).length === 0 && ['Ingress', 'Egress'].every((t) => p.spec.policyTypes?.includes(t)) && (p.spec.ingress ?? []).length === 0 && (p.spec.egress ?? []).length === 0);
      return denies ? [] : [{ rule: 'default deny', object: 'NetworkPolicy/*', message: 'no NetworkPolicy denies all ingress and egress of every pod' }];
    },
  },
  {
    name: 'exactly the flows the platform uses',
    profiles: ['dev', 'production'],
    check: (objects) => {
      const parts = platformWorkloads(objects);
      const expected = expectedFlows();
      const found: Finding[] = [];
      for (const from of parts) {
        for (const to of parts) {
          const port = to.container.ports?.find((p) => p.name === 'http');
          if (port === undefined) continue;
          const allowed = connectionAllowed(objects, from.workload.spec.template.metadata.labels, to.workload.spec.template.metadata.labels, { name: 'http', number: port.containerPort });
          const flow = `${from.part} → ${to.part}`;
          if (allowed && !expected.has(flow)) found.push(finding('exactly the flows the platform uses', from.workload, `${flow} is allowed but the platform never makes that call`));
          if (!allowed && expected.has(flow)) found.push(finding('exactly the flows the platform uses', from.workload, `${flow} is used (its configuration names the URL) but not allowed`));
        }
      }
      return found;
    },
  },
  {
    name: 'DNS, datastores and scraping allowed',
    profiles: ['dev', 'production'],
    check: (objects) => platformWorkloads(objects).flatMap(({ part, workload, container }) => {
      const labels = workload.spec.template.metadata.labels;
      const problems: string[] = [];
      const dns = (p: Peer) => p.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns';
      if (!egressAllowedTo(objects, labels, 53, 'UDP', dns)) problems.push('cannot resolve names (no egress to kube-dns on 53/UDP)');
      const outside = (p: Peer) => p.ipBlock !== undefined || p.podSelector !== undefined;
      for (const [name, port] of [['PostgreSQL', 5432], ['NATS', 4222]] as const) {
        const allowed = egressAllowedTo(objects, labels, port, 'TCP', outside);
        if (part !== 'gateway' && !allowed) problems.push(`cannot reach ${name} on ${port}`);
        if (part === 'gateway' && allowed) problems.push(`the gateway may reach ${name}, which it never uses`);
      }
      const metricsPort = container.ports?.find((p) => p.name === 'metrics')?.containerPort;
      const scraped = networkPolicies(objects).some((p) => selects(p.spec.podSelector, labels) && (p.spec.ingress ?? []).some((rule) => (rule.from ?? []).some((peer) => peer.namespaceSelector !== undefined) && portAllowed(rule.ports, { name: 'metrics', number: metricsPort ?? -1, protocol: 'TCP' })));
      if (!scraped) problems.push('Prometheus cannot scrape its metrics port');
      return problems.map((m) => finding('DNS, datastores and scraping allowed', workload, m));
    }),
  },
  {
    name: 'the Ingress routes the gateway\'s prefixes to the gateway',
    profiles: ['dev', 'production'],
    check: (objects) => {
      const ingresses = objects.filter((o) => o.kind === 'Ingress') as (K8sObject & { spec: { rules: { http: { paths: { path: string; pathType: string; backend: { service: { name: string; port: { name?: string; number?: number } } } }[] } }[] } })[];
      if (ingresses.length !== 1) return [{ rule: 'the Ingress routes the gateway\'s prefixes to the gateway', object: 'Ingress/*', message: `${ingresses.length} Ingresses instead of one` }];
      const ingress = ingresses[0]!;
      // The services' prefixes, and what the gateway serves itself (the API's documents, the reference
      // site, the dashboard under /app), plus the exact paths it serves (the dashboard's page at /).
      const exact = new Set<string>(gatewayExactPaths);
      const prefixes = [...routeTable(loadConfig(gatewayConfigSpec, {}).config).map(([prefix]) => prefix), ...gatewayPaths, ...exact].sort();
      const paths = ingress.spec.rules.flatMap((r) => r.http.paths);
      const problems: string[] = [];
      const routed = paths.map((p) => p.path).sort();
      if (JSON.stringify(routed) !== JSON.stringify(prefixes)) problems.push(`routes ${routed.join(' ')} instead of the gateway's ${prefixes.join(' ')}`);
      for (const p of paths) {
        if (p.backend.service.name !== 'gateway' || p.backend.service.port.name !== 'http') problems.push(`${p.path} goes to ${p.backend.service.name}:${p.backend.service.port.name ?? p.backend.service.port.number}, not gateway:http`);
        const pathType = exact.has(p.path) ? 'Exact' : 'Prefix';
        if (p.pathType !== pathType) problems.push(`${p.path} is ${p.pathType}, not ${pathType}`);
      }
      return problems.map((m) => finding('the Ingress routes the gateway\'s prefixes to the gateway', ingress, m));
    },
  },
];

function safeEnv(objects: readonly K8sObject[], workload: Workload, container: Container, secrets: SecretValues): Record<string, string> {
  try {
    return containerEnv(objects, workload, container, secrets);
  } catch (error) {
    if (error instanceof EnvError) return {};
    throw error;
  }
}

export function policyFindings(objects: readonly K8sObject[], context: PolicyContext): Finding[] {
  return rules.filter((r) => r.profiles.includes(context.profile)).flatMap((r) => r.check(objects, context));
}
