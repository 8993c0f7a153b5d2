// `npm run pglite:prepare`: runs PGlite's initdb once and writes its output where a first start of
// embedded mode makes its cluster from (packages/platform/src/db/prepared-cluster.ts), removing
// the files of other versions. Run it after upgrading PGlite or changing its settings, and commit
// the file it writes.
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { createPglite } from '@paymesh/platform/db/open-database';
import { preparedClusterFile, preparedClusterFolder } from '@paymesh/platform/db/prepared-cluster';

const client = await createPglite('memory://', undefined);
const tar = new Uint8Array(await (await client.dumpDataDir('none')).arrayBuffer());
await client.close();
const file = preparedClusterFile();
for (const name of await readdir(preparedClusterFolder)) {
  if (name.startsWith('initdb-') && join(preparedClusterFolder, name) !== file) await rm(join(preparedClusterFolder, name));
}
await writeFile(file, await promisify(gzip)(tar, { level: 9 }));
process.stdout.write(`prepared cluster written: ${relative(process.cwd(), file)}\n`);
