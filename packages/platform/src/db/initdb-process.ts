// `node initdb-process.ts <folder>`: runs PGlite's initdb in the folder and exits (new-cluster.ts
// runs it when no prepared cluster matches, and says why in a process of its own).
import { createPglite } from './open-database.ts';

const client = await createPglite(process.argv[2]!, undefined);
await client.close();
// Nothing is left to do; PGlite may still hold a timer that would keep the process alive for seconds.
process.exit(0);
