// A container's environment as the kubelet builds it: `envFrom` ConfigMaps (and Secrets) in order,
// then `env` entries, with ConfigMap and Secret keys resolved and the downward API's pod fields.
// Used by the policy tests (is each service fully configured?) and the manifest-driven launch.
import type { K8sObject } from './render.ts';

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef; fieldRef?: { fieldPath: string } } }[];
  envFrom?: { configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean }; prefix?: string }[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  workingDir?: string;
}

export interface KeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

export interface Probe {
  httpGet?: { path?: string; port: number | string; scheme?: string };
  exec?: { command: string[] };
  tcpSocket?: { port: number | string };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  initialDelaySeconds?: number;
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  fsGroup?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: SecurityContext;
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  enableServiceLinks?: boolean;
  terminationGracePeriodSeconds?: number;
  volumes?: { name: string; emptyDir?: { sizeLimit?: string; medium?: string }; configMap?: { name: string }; secret?: { secretName: string } }[];
  topologySpreadConstraints?: { topologyKey: string; maxSkew: number; whenUnsatisfiable: string; labelSelector?: { matchLabels?: Record<string, string> } }[];
}

/** Deployments and StatefulSets: the objects whose pods the kubelet starts. */
export interface Workload extends K8sObject {
  spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}

export function workloads(objects: readonly K8sObject[]): Workload[] {
  return objects.filter((o): o is Workload => o.kind === 'Deployment' || o.kind === 'StatefulSet');
}

/** A Secret's values by name and key, as the operator creates them (never in git). */
export type SecretValues = Record<string, Record<string, string>>;

export class EnvError extends Error {}

/**
 * The environment the kubelet would give `container` of `workload`'s pod named `podName`.
 * A missing ConfigMap, Secret or key that is not optional fails, as it stops the pod from starting.
 */
export function containerEnv(objects: readonly K8sObject[], workload: Workload, container: Container, secrets: SecretValues, podName = `${workload.metadata.name}-0`): Record<string, string> {
  const configMap = (name: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name) as (K8sObject & { data?: Record<string, string> }) | undefined;
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef !== undefined) {
      const map = configMap(source.configMapRef.name);
      if (map === undefined && source.configMapRef.optional !== true) throw new EnvError(`ConfigMap ${source.configMapRef.name} does not exist`);
      for (const [key, value] of Object.entries(map?.data ?? {})) env[`${source.prefix ?? ''}${key}`] = value;
    }
    if (source.secretRef !== undefined) {
      const secret = secrets[source.secretRef.name];
      if (secret === undefined && source.secretRef.optional !== true) throw new EnvError(`Secret ${source.secretRef.name} does not exist`);
      for (const [key, value] of Object.entries(secret ?? {})) env[`${source.prefix ?? ''}${key}`] = value;
    }
  }
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) {
      env[entry.name] = entry.value;
      continue;
    }
    const from = entry.valueFrom ?? {};
    if (from.secretKeyRef !== undefined) {
      const value = secrets[from.secretKeyRef.name]?.[from.secretKeyRef.key];
      if (value !== undefined) env[entry.name] = value;
      else if (from.secretKeyRef.optional !== true) throw new EnvError(`Secret ${from.secretKeyRef.name} has no key ${from.secretKeyRef.key} (for ${entry.name})`);
    } else if (from.configMapKeyRef !== undefined) {
      const value = configMap(from.configMapKeyRef.name)?.data?.[from.configMapKeyRef.key];
      if (value !== undefined) env[entry.name] = value;
      else if (from.configMapKeyRef.optional !== true) throw new EnvError(`ConfigMap ${from.configMapKeyRef.name} has no key ${from.configMapKeyRef.key} (for ${entry.name})`);
    } else if (from.fieldRef !== undefined) {
      const fields: Record<string, string> = { 'metadata.name': podName, 'metadata.namespace': workload.metadata.namespace ?? 'default' };
      const value = fields[from.fieldRef.fieldPath];
      if (value === undefined) throw new EnvError(`fieldRef ${from.fieldRef.fieldPath} is not supported here (for ${entry.name})`);
      env[entry.name] = value;
    } else {
      env[entry.name] = '';
    }
  }
  return env;
}

/** Every Secret key the manifests reference, as `name/key` (with whether it is optional). */
export function secretReferences(objects: readonly K8sObject[]): { name: string; key: string; optional: boolean; env: string; workload: string }[] {
  return workloads(objects).flatMap((w) => w.spec.template.spec.containers.flatMap((c) => (c.env ?? []).flatMap((e) => {
    const ref = e.valueFrom?.secretKeyRef;
    return ref === undefined ? [] : [{ name: ref.name, key: ref.key, optional: ref.optional === true, env: e.name, workload: w.metadata.name }];
  })));
}

/** The port number a probe or a Service names (a number, or a container port's name). */
export function containerPort(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}
