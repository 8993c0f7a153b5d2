// drizzle-orm and PGlite, loaded through require (their CommonJS builds) instead of import.
// drizzle's package.json maps about a thousand entry points, and Node's ESM loader reads that map
// again for every drizzle module it loads (to learn each file's package scope): 0.6-0.7 s of CPU
// at every process start, against 0.08-0.15 s for the same modules through require. PGlite comes
// the same way so that drizzle's driver and ours share one copy of it. Types are imported as usual.
import { createRequire } from 'node:module';
import type * as DrizzleOrm from 'drizzle-orm';
import type * as DrizzleNodePostgres from 'drizzle-orm/node-postgres';
import type * as DrizzlePglite from 'drizzle-orm/pglite';
import type * as Pglite from '@electric-sql/pglite';

const require = createRequire(import.meta.url);

export const { sql } = require('drizzle-orm') as typeof DrizzleOrm;
export const { drizzle: drizzlePglite } = require('drizzle-orm/pglite') as typeof DrizzlePglite;
export const { drizzle: drizzlePg } = require('drizzle-orm/node-postgres') as typeof DrizzleNodePostgres;
export const { PGlite, types: pgliteTypes } = require('@electric-sql/pglite') as typeof Pglite;
export type { SQL } from 'drizzle-orm';
export type PGlite = Pglite.PGlite;
