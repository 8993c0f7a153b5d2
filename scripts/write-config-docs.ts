// Writes docs/configuration.md from the typed config specs, so the documentation of every key is
// the one the code checks at boot. `npm run docs:config`; a test fails when the file is stale.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { configDocs } from './config-docs.ts';

writeFileSync(resolve(import.meta.dirname, '../docs/configuration.md'), configDocs());
