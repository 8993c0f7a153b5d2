// Embedded mode's one PGlite cluster (docs/adr/0029-embedded-databases.md). Every PGlite is a
// whole PostgreSQL in its own WebAssembly memory: four of them cost four initdb runs on a first
// start and ~100 MB each at rest. So the embedded platform keeps one cluster, and each service
// owns a schema of it under a role of its own (a LOGIN role, neither superuser nor able to create
// roles or databases): the service's handle runs every statement as that role with only its
// schema on the search path, so its unqualified SQL (the same migrations as on PostgreSQL) lands
// in its schema, and reading another service's tables fails with `permission denied`.
// PGlite is one session whose session user is the superuser, and its callers take turns on it
// (pglite-turns.ts): a caller whose service is not the one the session is set to first sets the
// session's role and search path to its own (`set role`, outside any transaction, so no rollback
// undoes it), and nobody else's statement runs until its turn ends. So the role never leaks into
// another service's statement, and a run of one service's statements (most of them) costs one
// PGlite call each, not the four of a transaction entering the role per statement (ADR 31). What
// it guards against is a service's code reading another's data, not code that says `reset role`
// (all of it runs in one process anyway).
import { existsSync } from 'node:fs';
import type { Logger } from '../logger.ts';
import { applyMigrations } from './apply-migrations.ts';
import { newCluster } from './new-cluster.ts';
import type { PGlite } from './drizzle.ts';
import { createPglite, dumpPglite, pgliteDatabase, type Database } from './open-database.ts';
import { pgliteSettings } from './pglite-settings.ts';
import { takingTurns, type PgliteRunner, type TakingTurns } from './pglite-turns.ts';
import { readSnapshot, snapshotKey, writeSnapshot } from './pglite-snapshot.ts';

type MigrationSets = readonly { readonly scope: string; readonly dir: string }[];

export interface EmbeddedCluster {
  /** The service's handle: its role, its schema. Closing it leaves the cluster open (`close` below does that). */
  database(service: string): Database;
  close(): Promise<void>;
}

export interface EmbeddedClusterOptions {
  /** The cluster's folder; `memory://` keeps it in memory, starting from a snapshot (pglite-snapshot.ts). */
  readonly dataDir: string;
  /** Each service's migration folders, applied in its schema as its role. */
  readonly services: Readonly<Record<string, MigrationSets>>;
  readonly logger: Logger;
}

export async function openEmbeddedCluster(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
  const names = Object.keys(options.services);
  for (const name of names) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`embedded cluster: ${JSON.stringify(name)} is not a plain lower-case name`);
  }
  const inMemory = options.dataDir.startsWith('memory://');
  // One key for the whole cluster: every service's migrations, each under its own name.
  const sets = names.flatMap((name) => options.services[name]!.map(({ scope, dir }) => ({ scope: `${name}:${scope}`, dir })));
  const key = inMemory ? await snapshotKey({ ...pgliteSettings, cluster: names }, sets) : undefined;
  const snapshot = key === undefined ? undefined : await readSnapshot(key);
  if (!inMemory && !existsSync(`${options.dataDir}/PG_VERSION`)) await newCluster(options.dataDir);
  const client = await createPglite(options.dataDir, snapshot);
  // The services share the cluster's one session: they take turns on it (pglite-turns.ts).
  const turns = takingTurns(client);
  const session = new RoleSession(turns);
  const cluster: EmbeddedCluster = {
    database: (service) => {
      if (!names.includes(service)) throw new Error(`embedded cluster: no schema for ${service}`);
      return { ...pgliteDatabase(turns, session.as(service)), close: async () => {} };
    },
    close: () => client.close(),
  };
  // A snapshot is the migrated cluster of exactly these migration files: nothing to check or apply.
  if (snapshot !== undefined) return cluster;
  try {
    for (const name of names) {
      await session.asSuperuser((s) => s.exec(`
        do $$ begin
          if not exists (select from pg_roles where rolname = '${name}') then create role "${name}" login; end if;
        end $$;
        create schema if not exists "${name}" authorization "${name}";`));
      await applyMigrations(cluster.database(name).migrations, options.services[name]!, options.logger.child({ service: name }));
    }
    if (key !== undefined) await writeSnapshot(key, await dumpPglite(client));
  } catch (error) {
    await client.close();
    throw error;
  }
  return cluster;
}

/** Which service's role the cluster's one session is set to, and the handles that switch it. */
class RoleSession {
  readonly #turns: TakingTurns;
  /** `undefined`: the superuser with the default search path, as PGlite opens. */
  #role: string | undefined;

  constructor(turns: TakingTurns) {
    this.#turns = turns;
  }

  /** Every statement as `role` with only its schema on the search path. */
  as(role: string): PgliteRunner {
    const inRole = <T>(work: (session: PgliteRunner) => Promise<T>) => this.#turns.turn(async (session) => {
      if (this.#role !== role) {
        // Forgotten first: if the statement fails, the next caller sets its own role again.
        this.#role = undefined;
        await session.exec(`set role "${role}"; set search_path to "${role}"`);
        this.#role = role;
      }
      return work(session);
    });
    return {
      query: ((...args: Parameters<PGlite['query']>) => inRole((s) => s.query(...args))) as PGlite['query'],
      exec: ((...args: Parameters<PGlite['exec']>) => inRole((s) => s.exec(...args))) as PGlite['exec'],
      transaction: ((work: Parameters<PGlite['transaction']>[0]) => inRole((s) => s.transaction(work))) as PGlite['transaction'],
    };
  }

  /** `work` as the superuser (the cluster's set-up: roles and schemas). */
  asSuperuser<T>(work: (session: PgliteRunner) => Promise<T>): Promise<T> {
    return this.#turns.turn(async (session) => {
      this.#role = undefined;
      await session.exec('reset role; reset search_path');
      return work(session);
    });
  }
}
