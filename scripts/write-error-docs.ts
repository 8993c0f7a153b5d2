// Writes docs/errors.md from the error catalogues (scripts/error-docs.ts). `npm run docs:errors`.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorDocs } from './error-docs.ts';

writeFileSync(resolve(import.meta.dirname, '../docs/errors.md'), errorDocs());
