// On PostgreSQL each test platform needs four fresh databases, and migrating four empty ones per
// platform costs seconds. Each service's migrations are applied once, into a template database
// named after a hash of them (the PGlite snapshot's key: a change to any migration makes a new
// template), and every test database is a `CREATE DATABASE … TEMPLATE` copy of it. Test files
// running side by side build a template once between them: a session-level advisory lock, and a
// build under a temporary name renamed only once complete, so nobody copies half a template.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { openDatabase } from '@paymesh/platform/db/open-database';
import { snapshotKey } from '@paymesh/platform/db/pglite-snapshot';
import { createLogger } from '@paymesh/platform/logger';
import type { ServiceName } from '../src/ports.ts';

const root = resolve(import.meta.dirname, '../..');
const templateLockKey = 7_320_461_924; // arbitrary, beside open-database's migration lock

/** The migration folders the service's runtime applies (runtime.ts: the platform's, then its own). */
function migrationSets(service: ServiceName): { scope: string; dir: string }[] {
  return [{ scope: 'platform', dir: resolve(root, 'packages/platform/migrations') }, { scope: service, dir: resolve(root, 'services', service, 'migrations') }];
}

const built = new Map<string, Promise<string>>();

/** The name of `service`'s migrated template on the server of `adminUrl`, built if missing. */
export function migratedTemplate(adminUrl: string, service: ServiceName): Promise<string> {
  const id = `${adminUrl}\0${service}`;
  let name = built.get(id);
  if (name === undefined) {
    name = buildTemplate(adminUrl, service);
    built.set(id, name);
  }
  return name;
}

async function buildTemplate(adminUrl: string, service: ServiceName): Promise<string> {
  const sets = migrationSets(service);
  const name = `tpl_${(await snapshotKey({ postgres: 'template' }, sets)).slice(0, 20)}_${service}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock($1)', [templateLockKey]);
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      const partial = `tpl_partial_${randomBytes(6).toString('hex')}`;
      await admin.query(`create database ${partial}`);
      try {
        const database = await openDatabase({ url: urlOf(adminUrl, partial), dataDir: 'memory://', migrations: sets, logger: createLogger(`${service}-template`, 'warn'), poolSize: 1 });
        await database.close();
        await admin.query(`alter database ${partial} rename to ${name}`);
      } catch (error) {
        await admin.query(`drop database if exists ${partial} with (force)`);
        throw error;
      }
    }
  } finally {
    await admin.end(); // ends the session, and with it the advisory lock
  }
  return name;
}

/** Creates database `name` as a copy of `template`; returns its URL. */
export async function createFromTemplate(adminUrl: string, name: string, template: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database ${name} template ${template}`);
  } finally {
    await client.end();
  }
  return urlOf(adminUrl, name);
}

function urlOf(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}
