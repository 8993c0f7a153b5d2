// A new PGlite cluster on disk: the prepared cluster unpacked (prepared-cluster.ts), or, when none
// matches the installed PGlite, initdb run in a process of its own (initdb-process.ts): PGlite's
// initdb is a WebAssembly instance that grows to several hundred MB, and memory freed inside a
// long-running process mostly stays in its RSS; a process that exits gives it all back. Either
// way the work runs beside the caller's module loading (scripts/start.ts starts it first thing:
// unpacking is file writes and zlib on libuv's threads, initdb the other core), so this file
// imports nothing heavy.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPreparedCluster } from './prepared-cluster.ts';
import { untar } from './untar.ts';

const running = new Map<string, Promise<void>>();

/**
 * Makes the cluster in a folder beside `dataDir` and renames it into place once complete: a start
 * killed meanwhile leaves no half-made cluster that a later start would take for a real one.
 * Asked twice for one folder in a process, it runs once (the early start and the opening share it).
 */
export function newCluster(dataDir: string): Promise<void> {
  let made = running.get(dataDir);
  if (made === undefined) {
    made = makeCluster(dataDir);
    running.set(dataDir, made);
    // Whoever started it early may not await it before the opening does: a failure reaches the
    // opening (which awaits this same promise), not the process's unhandled-rejection handler.
    made.catch(() => undefined);
  }
  return made;
}

async function makeCluster(dataDir: string): Promise<void> {
  const partial = `${dataDir}.new-${randomBytes(4).toString('hex')}`;
  // What a start killed while making it left behind (the finally below never ran for it).
  for (const name of await readdir(dirname(dataDir)).catch(() => [] as string[])) {
    if (name.startsWith(`${basename(dataDir)}.new-`)) await rm(join(dirname(dataDir), name), { recursive: true, force: true });
  }
  try {
    const prepared = await readPreparedCluster();
    if (prepared === undefined) await initdbProcess(partial);
    else await untar(prepared, partial);
    // An empty folder (made by hand, or by an earlier failed start) gives way; one with anything
    // else in it is not ours to replace: rmdir refuses it and the start fails saying so.
    await rmdir(dataDir).catch((error: unknown) => {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    });
    await rename(partial, dataDir);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

function initdbProcess(dataDir: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // No flags of the parent (an inspector's port, a profiler): this process only runs initdb.
    const child = fork(fileURLToPath(new URL('./initdb-process.ts', import.meta.url)), [dataDir], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`initdb of ${dataDir} ended with ${signal ?? `code ${code}`}`))));
  });
}
