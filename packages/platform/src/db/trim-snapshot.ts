// A PGlite data folder is 40 MB of tar, and loading it (untar into memory) is most of the cost of
// opening a database from a snapshot. Two parts of it are never read by the platform: the
// template databases (nothing creates a database inside PGlite) and the zero-filled tail of the
// WAL segment past the last record (PostgreSQL reads the WAL up to its checkpoint and extends the
// file as it writes). Dropping them leaves 16 MB and a third of the files.

const block = 512;

/** The tar `dump` without the folders of `skipDatabaseOids` and with WAL segments cut after their last written page. */
export function trimSnapshot(dump: Uint8Array, skipDatabaseOids: readonly number[]): Uint8Array {
  const skipped = skipDatabaseOids.map((oid) => `/base/${oid}`);
  const parts: Uint8Array[] = [];
  let at = 0;
  while (at + block <= dump.length) {
    const header = dump.subarray(at, at + block);
    if (header.every((byte) => byte === 0)) break; // the two zero blocks that end the archive
    const name = pathOf(header);
    const size = Number.parseInt(text(header, 124, 12) || '0', 8);
    const data = dump.subarray(at + block, at + block + size);
    at += block + Math.ceil(size / block) * block;
    const normalised = name.startsWith('/') ? name : `/${name}`;
    if (skipped.some((folder) => normalised === folder || normalised.startsWith(`${folder}/`))) continue;
    if (/^\/pg_wal\/[0-9A-F]{24}$/.test(normalised)) {
      const kept = data.subarray(0, writtenLength(data));
      parts.push(withSize(header, kept.length), padded(kept));
      continue;
    }
    parts.push(header, padded(data));
  }
  parts.push(new Uint8Array(2 * block));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Up to the end of the last WAL page (8 KiB) holding anything but zeros. */
function writtenLength(data: Uint8Array): number {
  let end = data.length;
  while (end > 0 && data[end - 1] === 0) end--;
  return Math.min(data.length, Math.ceil(end / 8192) * 8192);
}

function pathOf(header: Uint8Array): string {
  const name = text(header, 0, 100);
  const prefix = text(header, 345, 155);
  return prefix === '' ? name : `${prefix}/${name}`;
}

function text(header: Uint8Array, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end)).trim();
}

/** The header with its size field (and so its checksum) rewritten. */
function withSize(header: Uint8Array, size: number): Uint8Array {
  const out = header.slice();
  out.set(new TextEncoder().encode(`${size.toString(8).padStart(11, '0')}\0`), 124);
  out.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  const sum = out.reduce((total, byte) => total + byte, 0);
  out.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  return out;
}

function padded(data: Uint8Array): Uint8Array {
  const length = Math.ceil(data.length / block) * block;
  if (length === data.length) return data;
  const out = new Uint8Array(length);
  out.set(data);
  return out;
}
