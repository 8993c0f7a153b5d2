// Runs PGlite's initdb in a process of its own (embedded-cluster.ts): initdb is a WebAssembly
// instance of its own that grows to several hundred MB, and memory freed inside a long-running
// process mostly stays in its RSS (even a worker thread's does: its allocator's arenas stay);
// a process that exits gives it all back. Usage: node initdb-process.ts <data folder>.
import { createPglite } from './open-database.ts';

const client = await createPglite(process.argv[2]!, undefined);
await client.close();
// Nothing is left to do; PGlite may still hold a timer that would keep the process alive for seconds.
process.exit(0);
