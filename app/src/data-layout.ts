// Where embedded mode keeps its PGlite data (docs/adr/0029-embedded-databases.md): one cluster in
// `<data root>/platform`, each service in its own schema under its own role. Data folders made
// before it (one cluster per service, `<data root>/<service>`) keep being used as they are, so an
// upgrade never strands anybody's data.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newCluster } from '@paymesh/platform/db/new-cluster';
import { serviceNames } from './ports.ts';

/** The one cluster's folder under the data root. */
export const clusterDir = (dataRoot: string) => resolve(dataRoot, 'platform');

export type DataLayout = 'cluster' | 'per-service';

/**
 * `cluster` unless `dataRoot` already holds a service's own cluster and no platform cluster:
 * a folder from before the change, started as it was made.
 */
export function dataLayout(dataRoot: string): DataLayout {
  if (dataRoot === 'memory://') return 'cluster';
  const isCluster = (folder: string) => existsSync(join(folder, 'PG_VERSION'));
  if (isCluster(clusterDir(dataRoot))) return 'cluster';
  return serviceNames.some((name) => isCluster(join(dataRoot, name))) ? 'per-service' : 'cluster';
}

/**
 * Starts making the cluster that a start on `dataRoot` is going to need, so that it is made on the
 * other core while the platform's modules load (scripts/start.ts); the start then awaits the same
 * run (new-cluster.ts). Nothing when the cluster exists or will not be used.
 */
export function makeClusterEarly(dataRoot: string, env: Record<string, string | undefined>): void {
  if (env.DATABASE_URL !== undefined || dataRoot === 'memory://' || dataLayout(dataRoot) !== 'cluster') return;
  if (!existsSync(join(clusterDir(dataRoot), 'PG_VERSION'))) void newCluster(clusterDir(dataRoot));
}
