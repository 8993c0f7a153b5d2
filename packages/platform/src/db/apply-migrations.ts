// Applies `NNNN_name.sql` files in order, each in its own transaction, recording them in
// schema_migrations. Files are immutable once released: a change is a new file. The driver
// supplies `run`, which executes a multi-statement script atomically (PGlite's exec, or a
// PostgreSQL transaction holding an advisory lock so replicas starting together take turns).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../logger.ts';

export interface MigrationDriver {
  /** Names already applied (creating the bookkeeping table when needed). */
  applied(): Promise<Set<string>>;
  /** Runs `script` and records `name`, atomically. Must skip if `name` got applied meanwhile. */
  apply(name: string, script: string): Promise<boolean>;
}

export const bookkeeping = `create table if not exists schema_migrations (name text primary key, applied_at timestamptz not null default now())`;

export async function applyMigrations(driver: MigrationDriver, sets: readonly { scope: string; dir: string }[], logger: Logger): Promise<void> {
  const applied = await driver.applied();
  for (const { scope, dir } of sets) {
    const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
    for (const file of files) {
      const name = `${scope}/${file}`;
      if (applied.has(name)) continue;
      if (await driver.apply(name, await readFile(join(dir, file), 'utf8'))) logger.info({ migration: name }, 'migration applied');
    }
  }
}
