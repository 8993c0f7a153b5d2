// A first start of embedded mode makes its cluster from PGlite's initdb output, prepared once and
// shipped in the repository (packages/platform/pglite/), instead of running initdb: initdb costs
// seconds of CPU on every fresh data folder, the same work with the same result each time, while
// unpacking its output takes a fraction of a second (docs/adr/0029-embedded-databases.md). The
// file is named for PGlite's version and the platform's settings: after an upgrade of either no
// file matches, a start runs initdb as before, and a test says to run `npm run pglite:prepare`.
// It is initdb's whole output, template databases included: a cluster for keeps, unlike the tests'
// trimmed snapshots (pglite-snapshot.ts). Light on imports: a start reads it first thing.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { pgliteSettings } from './pglite-settings.ts';
import { pgliteVersion } from './pglite-snapshot.ts';

/** The folder of prepared clusters (`npm run pglite:prepare` writes there). */
export const preparedClusterFolder = resolve(import.meta.dirname, '../../pglite');

/** Where the prepared cluster of the installed PGlite and the platform's settings is (or would be). */
export function preparedClusterFile(): string {
  const settings = createHash('sha256').update(JSON.stringify(pgliteSettings)).digest('hex').slice(0, 12);
  return join(preparedClusterFolder, `initdb-${pgliteVersion}-${settings}.tar.gz`);
}

/** The prepared cluster as a tarball of its data folder, or undefined when none matches. */
export async function readPreparedCluster(): Promise<Uint8Array | undefined> {
  let packed: Buffer;
  try {
    packed = await readFile(preparedClusterFile());
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  return new Uint8Array(await promisify(gunzip)(packed));
}
