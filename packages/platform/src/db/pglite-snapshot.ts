// Tests open hundreds of in-memory PGlite databases, and each one's initdb and migrations cost
// seconds of WASM work: most of the suite's time. An in-memory database therefore starts from a
// snapshot of a freshly migrated one, kept in the temp folder under a hash of everything that
// shapes it (PGlite's version, its settings, every migration file's name and text): a change to
// any of them makes a new snapshot, so a snapshot is always what a fresh database would be.
// Folders on disk (`npm start`) never use it: their data is their own.
// A test process opens four databases per platform, often several platforms: the key, the
// snapshot and PGlite's compiled WebAssembly are worked out once per process and then reused.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGliteOptions } from '@electric-sql/pglite';

// The package does not export its package.json; its entry sits in dist/, one floor below.
export const pgliteVersion = (JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), '..', 'package.json'), 'utf8')) as { version: string }).version;
const folder = join(tmpdir(), 'paymesh-pglite-snapshots');

const keys = new Map<string, Promise<string>>();
const snapshots = new Map<string, Blob>();

/** The snapshot's file name for these settings and migration folders (migration files do not change while a process runs). */
export function snapshotKey(settings: unknown, sets: readonly { scope: string; dir: string }[]): Promise<string> {
  const id = JSON.stringify([settings, sets]);
  let key = keys.get(id);
  if (key === undefined) {
    key = hashInputs(settings, sets);
    keys.set(id, key);
  }
  return key;
}

async function hashInputs(settings: unknown, sets: readonly { scope: string; dir: string }[]): Promise<string> {
  // `trimmed`: the snapshot's layout (trim-snapshot.ts); a change to it makes new snapshots too.
  const hash = createHash('sha256').update(pgliteVersion).update('trimmed').update(JSON.stringify(settings));
  for (const { scope, dir } of sets) {
    for (const file of (await readdir(dir)).sort()) hash.update(`\0${scope}/${file}\0`).update(await readFile(join(dir, file)));
  }
  return hash.digest('hex').slice(0, 32);
}

/** The snapshot of `key`, or undefined when none was written yet (the caller migrates and writes it). */
export async function readSnapshot(key: string): Promise<Blob | undefined> {
  const kept = snapshots.get(key);
  if (kept !== undefined) return kept;
  let snapshot: Blob;
  try {
    snapshot = new Blob([await readFile(join(folder, `${key}.tar`))]);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
  snapshots.set(key, snapshot);
  return snapshot;
}

type PgliteModules = Required<Pick<PGliteOptions, 'pgliteWasmModule' | 'fsBundle'>>;
// The compiler's libraries here leave WebAssembly out (it comes with the DOM's): the one call used.
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<PgliteModules['pgliteWasmModule']> } }).WebAssembly;

let modules: Promise<PgliteModules> | undefined;

/**
 * PGlite's WebAssembly compiled and its file bundle read once per process: PGlite.create would
 * otherwise compile the module again for every database (a fifth of an open from a snapshot).
 */
export function pgliteModules(): Promise<PgliteModules> {
  modules ??= (async () => {
    const dist = import.meta.resolve('@electric-sql/pglite');
    const [code, bundle] = await Promise.all([readFile(new URL('./pglite.wasm', dist)), readFile(new URL('./pglite.data', dist))]);
    return { pgliteWasmModule: await wasm.compile(code), fsBundle: new Blob([bundle]) };
  })();
  return modules;
}

/** Written under a unique name then renamed, so test files starting together never read half a file. */
export async function writeSnapshot(key: string, dump: Blob): Promise<void> {
  await mkdir(folder, { recursive: true });
  const partial = join(folder, `${key}.${randomBytes(4).toString('hex')}.partial`);
  await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
  await rename(partial, join(folder, `${key}.tar`));
  await pruneSnapshots();
}

/** Each migration added leaves the old snapshots behind: keep the newest few, by write time. */
async function pruneSnapshots(keep = 24): Promise<void> {
  const names = (await readdir(folder)).filter((name) => name.endsWith('.tar'));
  const dated = await Promise.all(names.map(async (name) => ({ name, at: (await stat(join(folder, name)).catch(() => undefined))?.mtimeMs ?? 0 })));
  for (const { name } of dated.sort((a, b) => b.at - a.at).slice(keep)) await rm(join(folder, name), { force: true });
}
