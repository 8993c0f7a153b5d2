// Renders deploy/kubernetes with `kubectl kustomize` (what an operator applies) into plain objects.
// There is no API server on these machines: everything checked about the manifests is checked on
// this output.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';

export const kubernetesDir = resolve(import.meta.dirname, '../../../deploy/kubernetes');
export const overlays = ['dev', 'production'] as const;
export const components = ['postgresql-cnpg', 'nats', 'prometheus-operator'] as const;
export type Overlay = (typeof overlays)[number];
export type Component = (typeof components)[number];

/** A rendered Kubernetes object: only what every object has is typed; the rest is read by path. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

const run = promisify(execFile);

/** Why the Kubernetes checks cannot run here, or false when kubectl is on the PATH. */
export async function kubectlMissing(): Promise<string | false> {
  try {
    await run('kubectl', ['version', '--client'], { timeout: 10_000 });
    return false;
  } catch {
    return 'kubectl is not installed (it renders the manifests: `kubectl kustomize`); .ci/run installs it';
  }
}

/** `kubectl kustomize <dir>`, parsed. */
export async function renderKustomization(dir: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return parseManifests(stdout);
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`kustomize printed YAML that does not parse: ${doc.errors[0]!.message}`);
    const object = doc.toJS() as K8sObject | null;
    return object === null ? [] : [object];
  });
}

export async function renderOverlay(overlay: Overlay): Promise<K8sObject[]> {
  return renderKustomization(join(kubernetesDir, 'overlays', overlay));
}

/**
 * An overlay with components added, as an operator does in their own kustomization (docs/deploy.md):
 * a kustomization in a temporary folder naming the overlay and the components, in its namespace.
 */
export async function renderWithComponents(overlay: Overlay, added: readonly Component[]): Promise<K8sObject[]> {
  const kustomization = parse(await readFile(join(kubernetesDir, 'overlays', overlay, 'kustomization.yaml'), 'utf8')) as { namespace?: string };
  const namespace = kustomization.namespace;
  const dir = await mkdtemp(join(tmpdir(), 'paymesh-kustomize-'));
  try {
    const path = (to: string) => relative(dir, to);
    await writeFile(join(dir, 'kustomization.yaml'), [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      ...(namespace === undefined ? [] : [`namespace: ${namespace}`]),
      `resources: [${path(join(kubernetesDir, 'overlays', overlay))}]`,
      `components: [${added.map((c) => path(join(kubernetesDir, 'components', c))).join(', ')}]`,
      '',
    ].join('\n'));
    return await renderKustomization(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `kind/name` (and the namespace when set): how findings name an object. */
export function objectId(object: K8sObject): string {
  return `${object.kind}/${object.metadata.name}`;
}
