// The manifest-driven launch, first half: each Deployment's container in the rendered manifests
// turned into the `podman run` a kubelet's work amounts to — its image (mapped like `kustomize
// edit set image`), command and args, the environment with ConfigMap and Secret values resolved,
// user and group, read-only root, dropped capabilities, no new privileges, emptyDir volumes as
// tmpfs, Service names resolvable as network aliases on one podman network — and the probes to
// poll, as the manifest names them. One pod per Deployment (replicas are the cluster's business).
import type { K8sObject } from './render.ts';
import { containerEnv, containerPort, workloads, type Container, type Probe, type SecretValues, type Workload } from './pod-env.ts';

export interface RunOptions {
  /** The Secrets the operator would have created. */
  readonly secrets: SecretValues;
  /** Image references as rendered → the local image to run (`paymesh/auth:0.1.0` → `localhost/paymesh-auth:dev`). */
  readonly images?: Record<string, string>;
  /** The podman network every pod joins; Service names are aliases on it. */
  readonly network: string;
  /** Host port for each pod's probed port (kubelets probe the pod IP; here the host probes a published port). */
  readonly hostPorts: Record<string, number>;
  /** Prefixes container names, so that two launches (or other containers) on one host never meet. */
  readonly containerPrefix?: string;
  /** Pass resource limits on (`--memory`, `--cpus`); off where the host's cgroups refuse them. */
  readonly limits?: boolean;
}

export interface ProbeSpec {
  readonly kind: 'startup' | 'readiness' | 'liveness';
  /** URL from the host, through the published port. */
  readonly url: string;
  readonly periodMs: number;
  readonly timeoutMs: number;
  readonly failureThreshold: number;
}

export interface RunSpec {
  /** The Deployment's name. */
  readonly name: string;
  /** The container's name on the host. */
  readonly container: string;
  readonly image: string;
  /** `podman` arguments after `run`, the environment excepted (see envFile). */
  readonly args: readonly string[];
  /** The resolved environment, given through an env file so no value shows in a process list. */
  readonly env: Readonly<Record<string, string>>;
  readonly probes: readonly ProbeSpec[];
  /** preStop `sleep`: how long to wait between "stop" and SIGTERM. */
  readonly preStopSleepSec: number;
  /** The kubelet's terminationGracePeriodSeconds: SIGKILL after it. */
  readonly gracePeriodSec: number;
}

export class RunSpecError extends Error {}

export function podmanRunSpecs(objects: readonly K8sObject[], options: RunOptions): RunSpec[] {
  return workloads(objects).filter((w) => w.kind === 'Deployment').map((w) => runSpec(objects, w, options));
}

function runSpec(objects: readonly K8sObject[], workload: Workload, options: RunOptions): RunSpec {
  const pod = workload.spec.template.spec;
  if (pod.containers.length !== 1 || (pod.initContainers ?? []).length > 0) throw new RunSpecError(`${workload.metadata.name}: one container per pod is all this launch runs`);
  const container = pod.containers[0]!;
  const name = workload.metadata.name;
  const podName = `${name}-0`;
  const security = { ...pod.securityContext, ...container.securityContext };
  const containerName = `${options.containerPrefix ?? ''}${name}`;
  const args: string[] = ['--detach', '--name', containerName, '--hostname', podName, '--network', options.network];
  for (const alias of serviceNames(objects, workload)) args.push('--network-alias', alias);

  if (security.runAsUser !== undefined) args.push('--user', security.runAsGroup === undefined ? String(security.runAsUser) : `${security.runAsUser}:${security.runAsGroup}`);
  if (security.runAsNonRoot === true && (security.runAsUser ?? 0) === 0) throw new RunSpecError(`${name}: runAsNonRoot without a numeric runAsUser cannot be checked before start`);
  if (security.readOnlyRootFilesystem === true) args.push('--read-only');
  if (security.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  if (security.privileged === true) throw new RunSpecError(`${name}: privileged containers are not launched`);
  for (const cap of security.capabilities?.drop ?? []) args.push('--cap-drop', cap);
  for (const cap of security.capabilities?.add ?? []) args.push('--cap-add', cap);
  // RuntimeDefault is podman's default profile; anything else would need its own file.
  if (security.seccompProfile !== undefined && security.seccompProfile.type !== 'RuntimeDefault') {
    if (security.seccompProfile.type !== 'Unconfined') throw new RunSpecError(`${name}: seccomp profile ${security.seccompProfile.type} is not supported here`);
    args.push('--security-opt', 'seccomp=unconfined');
  }

  for (const mount of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === mount.name);
    if (volume?.emptyDir === undefined) throw new RunSpecError(`${name}: volume ${mount.name} is not an emptyDir, the one kind this launch mounts`);
    // `U`: owned by the container's user, as fsGroup makes an emptyDir writable for it.
    const size = volume.emptyDir.sizeLimit === undefined ? '' : `,size=${toTmpfsSize(volume.emptyDir.sizeLimit)}`;
    args.push('--tmpfs', `${mount.mountPath}:rw,U,mode=1777${size}`);
  }

  const probed = container.readinessProbe?.httpGet?.port ?? container.livenessProbe?.httpGet?.port ?? container.startupProbe?.httpGet?.port;
  const probedPort = probed === undefined ? undefined : containerPort(container, probed);
  const hostPort = options.hostPorts[name];
  if (probedPort !== undefined) {
    if (hostPort === undefined) throw new RunSpecError(`${name}: no host port given for its probes`);
    args.push('--publish', `127.0.0.1:${hostPort}:${probedPort}`);
  }

  if (options.limits === true) {
    const limits = container.resources?.limits ?? {};
    if (limits.memory !== undefined) args.push('--memory', toPodmanMemory(limits.memory));
    if (limits.cpu !== undefined) args.push('--cpus', String(toCores(limits.cpu)));
  }

  const gracePeriodSec = pod.terminationGracePeriodSeconds ?? 30;
  args.push('--stop-signal', 'SIGTERM', '--stop-timeout', String(gracePeriodSec));
  if (container.workingDir !== undefined) args.push('--workdir', container.workingDir);
  // command replaces the image's ENTRYPOINT and args its CMD, as in a pod.
  if (container.command !== undefined) args.push('--entrypoint', JSON.stringify(container.command));
  args.push('--label', `io.kubernetes.pod.name=${podName}`, '--label', `io.kubernetes.container.name=${container.name}`);

  const image = options.images?.[container.image] ?? container.image;
  args.push(image, ...(container.args ?? []));

  const probes = (['startup', 'readiness', 'liveness'] as const).flatMap((kind) => {
    const probe = container[`${kind}Probe`];
    return probe === undefined ? [] : [probeSpec(name, kind, probe, container, probedPort, hostPort)];
  });
  return {
    name,
    container: containerName,
    image,
    args,
    env: containerEnv(objects, workload, container, options.secrets, podName),
    probes,
    preStopSleepSec: container.lifecycle?.preStop?.sleep?.seconds ?? 0,
    gracePeriodSec,
  };
}

/** The Services whose selector picks this pod: their names resolve to it, as cluster DNS would. */
function serviceNames(objects: readonly K8sObject[], workload: Workload): string[] {
  const labels = workload.spec.template.metadata.labels;
  return objects.filter((o) => o.kind === 'Service').filter((s) => {
    const selector = (s as unknown as { spec: { selector?: Record<string, string> } }).spec.selector ?? {};
    return Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);
  }).map((s) => s.metadata.name);
}

function probeSpec(name: string, kind: ProbeSpec['kind'], probe: Probe, container: Container, probedPort: number | undefined, hostPort: number | undefined): ProbeSpec {
  if (probe.httpGet === undefined) throw new RunSpecError(`${name}: its ${kind} probe is not httpGet, the one kind polled here`);
  if (containerPort(container, probe.httpGet.port) !== probedPort) throw new RunSpecError(`${name}: its probes use different ports`);
  return {
    kind,
    url: `${(probe.httpGet.scheme ?? 'HTTP').toLowerCase()}://127.0.0.1:${hostPort}${probe.httpGet.path ?? '/'}`,
    periodMs: (probe.periodSeconds ?? 10) * 1000,
    timeoutMs: (probe.timeoutSeconds ?? 1) * 1000,
    failureThreshold: probe.failureThreshold ?? 3,
  };
}

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12, '': 1 };

/** A Kubernetes quantity in bytes. */
export function quantityBytes(quantity: string | number): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(quantity));
  if (match === null) throw new RunSpecError(`quantity ${quantity} is not understood here`);
  return Math.round(Number(match[1]) * binarySuffixes[match[2] ?? '']!);
}

function toTmpfsSize(quantity: string): string {
  return `${Math.ceil(quantityBytes(quantity) / 1024)}k`;
}

function toPodmanMemory(quantity: string | number): string {
  return `${quantityBytes(quantity)}b`;
}

function toCores(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith('m') ? Number(text.slice(0, -1)) / 1000 : Number(text);
}

/** An env file for `podman run --env-file`: one KEY=VALUE per line (values with a newline cannot be passed so). */
export function envFileText(env: Readonly<Record<string, string>>): string {
  return Object.entries(env).map(([key, value]) => {
    if (value.includes('\n')) throw new RunSpecError(`${key}: a value with a newline cannot go through an env file`);
    return `${key}=${value}`;
  }).join('\n') + '\n';
}
