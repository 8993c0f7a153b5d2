// One database per service: PGlite (embedded PostgreSQL, in a data folder) by default and
// PostgreSQL when a URL is given. The same SQL migrations run on both; PGlite is told to return
// int8 as text like node-postgres does, so money (bigint) never passes through a float.
import { mkdir } from 'node:fs/promises';
import pg from 'pg';
import { drizzlePg, drizzlePglite, PGlite, pgliteTypes as types, sql, type SQL } from './drizzle.ts';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Logger } from '../logger.ts';
import { applyMigrations, bookkeeping, type MigrationDriver } from './apply-migrations.ts';
import { preparingStatements, StatementNames } from './prepared-statements.ts';
import { pgliteModules, readSnapshot, snapshotKey, writeSnapshot } from './pglite-snapshot.ts';
import { pgliteSettings } from './pglite-settings.ts';
import { takingTurns, type PgliteRunner, type TakingTurns } from './pglite-turns.ts';
import { ReachabilityWatch } from './reachability-watch.ts';
import { trimSnapshot } from './trim-snapshot.ts';

const migrationLockKey = 7_320_461_923; // arbitrary, constant across releases

/** A drizzle handle: the database itself or a transaction, which share one interface. */
export type Db = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  readonly migrations: MigrationDriver;
  /**
   * False from the moment a connection is lost or refused until a probe reaches the server again:
   * background work waits meanwhile and readiness reports it (PGlite, in process, is always available).
   */
  readonly available: boolean;
  ping(): Promise<void>;
  /** The connections in use and idle, and the callers waiting for one, now (connection-metrics.ts). */
  connections(): ConnectionUse;
  close(): Promise<void>;
  /** PGlite only: the whole data folder as a tarball (see pglite-snapshot.ts). */
  dump?(): Promise<Blob>;
}

export interface ConnectionUse {
  readonly used: number;
  readonly idle: number;
  readonly pending: number;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL connection string; when absent PGlite is used. */
  readonly url: string | undefined;
  /** PGlite data folder; `memory://` keeps it in memory (tests). */
  readonly dataDir: string;
  /** Migration folders applied in order (the platform's first, then the service's). */
  readonly migrations: readonly { readonly scope: string; readonly dir: string }[];
  readonly logger: Logger;
  readonly poolSize?: number;
  /** PostgreSQL: statements with parameters sent by name, parsed once per connection (prepared-statements.ts); on unless false. */
  readonly preparedStatements?: boolean;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const inMemory = options.url === undefined && options.dataDir.startsWith('memory://');
  const key = inMemory ? await snapshotKey(pgliteSettings, options.migrations) : undefined;
  const snapshot = key === undefined ? undefined : await readSnapshot(key);
  const database = options.url === undefined ? await openPglite(options.dataDir, snapshot) : openPostgres(options.url, options.poolSize ?? 10, options.logger, options.preparedStatements ?? true);
  // A snapshot is the migrated database of exactly these migration files (its key hashes them):
  // there is nothing to check or apply.
  if (snapshot !== undefined) return database;
  try {
    await applyMigrations(database.migrations, options.migrations, options.logger);
    if (key !== undefined) await writeSnapshot(key, await database.dump!());
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** A PGlite cluster in `dataDir` (initdb when the folder is empty), or restored from `snapshot`. */
export async function createPglite(dataDir: string, snapshot: Blob | undefined): Promise<PGlite> {
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  return PGlite.create(dataDir, {
    parsers: { [types.INT8]: (value: string) => value },
    ...pgliteSettings,
    ...(await pgliteModules()),
    ...(snapshot === undefined ? {} : { loadDataDir: snapshot }),
  });
}

async function openPglite(dataDir: string, snapshot: Blob | undefined): Promise<Database> {
  const client = await createPglite(dataDir, snapshot);
  return { ...pgliteDatabase(takingTurns(client)), close: () => client.close(), dump: () => dumpPglite(client) };
}

/**
 * A Database on PGlite whose callers take turns (pglite-turns.ts), run through `runner`: the turns
 * themselves, or a role-scoped view of them (embedded-cluster.ts). The caller supplies close (and dump).
 */
export function pgliteDatabase(turns: TakingTurns, runner: PgliteRunner = turns): Omit<Database, 'close' | 'dump'> {
  const db = drizzlePglite({ client: runner as PGlite }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    migrations: {
      async applied() {
        await runner.exec(bookkeeping);
        return new Set((await runner.query<{ name: string }>('select name from schema_migrations')).rows.map((r) => r.name));
      },
      async apply(name, script) {
        // One process owns a PGlite folder, so nobody can apply the same file meanwhile.
        await runner.transaction(async (tx) => {
          await tx.exec(script);
          await tx.query('insert into schema_migrations (name) values ($1)', [name]);
        });
        return true;
      },
    },
    available: true,
    ping: async () => {
      await runner.query('select 1');
    },
    // One connection: in use while a caller holds its turn; the others wait in the turns' queue.
    connections: () => ({ used: turns.busy ? 1 : 0, idle: turns.busy ? 0 : 1, pending: turns.waiting }),
  };
}

/** The whole data folder as a tarball, for the in-memory snapshots (pglite-snapshot.ts). */
export async function dumpPglite(client: PGlite): Promise<Blob> {
  // Only this database is ever opened from the snapshot: the templates stay out (trim-snapshot.ts).
  const others = (await client.query<{ oid: number }>('select oid::int as oid from pg_database where datname <> current_database()')).rows.map((row) => row.oid);
  const tar = new Uint8Array(await (await client.dumpDataDir('none')).arrayBuffer());
  return new Blob([trimSnapshot(tar, others)]);
}

function openPostgres(url: string, poolSize: number, logger: Logger, preparedStatements: boolean): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 });
  const watch = new ReachabilityWatch(() => pool.query('select 1').then(() => undefined), logger);
  // A client losing its connection emits 'error'. The pool listens only while the client is idle;
  // one checked out (inside a transaction, between two queries) would crash the process with an
  // unhandled 'error' event. So every client gets its own listener, for its whole life: the query
  // in flight fails by itself, the pool drops the broken client, and the next query reconnects.
  // At most 500 texts get a name: so many prepared statements per connection at most.
  const names = preparedStatements ? new StatementNames(500) : undefined;
  pool.on('connect', (client) => {
    client.on('error', (error) => watch.lost(error));
    if (names !== undefined) preparingStatements(client, names);
  });
  pool.on('error', (error) => watch.lost(error));
  // A refused or timed-out connect fails the query that asked for it; it also tells the watch.
  const connect = pool.connect.bind(pool) as (callback?: (error: Error | undefined, ...rest: unknown[]) => void) => unknown;
  (pool as { connect: unknown }).connect = (callback?: (error: Error | undefined, ...rest: unknown[]) => void) => {
    if (callback !== undefined) {
      return connect((error, ...rest) => {
        if (error !== undefined && error !== null) watch.lost(error);
        callback(error, ...rest);
      });
    }
    return (connect() as Promise<pg.PoolClient>).catch((error: unknown) => {
      watch.lost(error);
      throw error;
    });
  };
  const db = drizzlePg({ client: pool }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    get available() {
      return watch.available;
    },
    migrations: {
      async applied() {
        // Under the migration lock too: replicas starting together on a fresh database would
        // race in `create table if not exists`, and all but one fail on pg_type's unique index.
        const client = await pool.connect();
        try {
          await client.query('begin');
          await client.query('select pg_advisory_xact_lock($1)', [migrationLockKey]);
          await client.query(bookkeeping);
          const rows = (await client.query<{ name: string }>('select name from schema_migrations')).rows;
          await client.query('commit');
          return new Set(rows.map((r) => r.name));
        } catch (error) {
          await client.query('rollback').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
      async apply(name, script) {
        const client = await pool.connect();
        try {
          await client.query('begin');
          await client.query('select pg_advisory_xact_lock($1)', [migrationLockKey]);
          const done = await client.query('select 1 from schema_migrations where name = $1', [name]);
          if (done.rowCount === 0) {
            await client.query(script);
            await client.query('insert into schema_migrations (name) values ($1)', [name]);
          }
          await client.query('commit');
          return done.rowCount === 0;
        } catch (error) {
          await client.query('rollback').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
    },
    ping: async () => {
      if (!watch.available) throw new Error('the database is unavailable (reconnecting)');
      await pool.query('select 1');
    },
    connections: () => ({ used: pool.totalCount - pool.idleCount, idle: pool.idleCount, pending: pool.waitingCount }),
    close: async () => {
      watch.stop();
      await pool.end();
    },
  };
}

/** Runs a query and returns its rows; both drivers answer with `{ rows }`. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

export { sql, type SQL };
