// Unpacks a tarball of a PGlite data folder (prepared-cluster.ts) into a folder: the ustar subset
// PGlite's dumpDataDir writes (directories and regular files, short names, no links). Anything
// else is refused rather than guessed at.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';

const block = 512;

export async function untar(tar: Uint8Array, into: string): Promise<void> {
  const text = (from: number, length: number) => new TextDecoder().decode(tar.subarray(from, from + length)).replace(/\0.*$/s, '');
  const octal = (from: number, length: number) => Number.parseInt(text(from, length).trim() || '0', 8);
  await mkdir(into, { recursive: true });
  for (let at = 0; at + block <= tar.length;) {
    // Two zero blocks end the archive; one is enough to stop at.
    if (tar.subarray(at, at + block).every((byte) => byte === 0)) return;
    const prefix = text(at + 345, 155);
    const name = normalize((prefix === '' ? '' : `${prefix}/`) + text(at, 100)).replace(/^\/+/, '');
    if (name === '' || name === '.' || name.split(sep).includes('..')) throw new Error(`untar: refused entry name ${JSON.stringify(name)}`);
    const size = octal(at + 124, 12);
    const mode = octal(at + 100, 8) & 0o777;
    const type = String.fromCharCode(tar[at + 156]!);
    const target = join(into, name);
    if (type === '5') {
      await mkdir(target, { recursive: true, mode });
    } else if (type === '0' || type === '\0') {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, tar.subarray(at + block, at + block + size), { mode });
    } else {
      throw new Error(`untar: entry ${name} has type ${JSON.stringify(type)}, not a folder or a file`);
    }
    at += block + Math.ceil(size / block) * block;
  }
  throw new Error('untar: the archive ends without its end marker');
}
