// Where embedded mode keeps its PGlite data (docs/adr/0029-embedded-databases.md): one cluster in
// `<data root>/platform`, each service in its own schema under its own role. Data folders made
// before it (one cluster per service, `<data root>/<service>`) keep being used as they are, so an
// upgrade never strands anybody's data.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { serviceNames } from './ports.ts';

/** The one cluster's folder under the data root. */
export const clusterFolder = 'platform';

export type DataLayout = 'cluster' | 'per-service';

/**
 * `cluster` unless `dataRoot` already holds a service's own cluster and no platform cluster:
 * a folder from before the change, started as it was made.
 */
export function dataLayout(dataRoot: string): DataLayout {
  if (dataRoot === 'memory://') return 'cluster';
  const isCluster = (folder: string) => existsSync(join(dataRoot, folder, 'PG_VERSION'));
  if (isCluster(clusterFolder)) return 'cluster';
  return serviceNames.some(isCluster) ? 'per-service' : 'cluster';
}
