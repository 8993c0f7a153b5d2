// A service's examples for its API document: real answers recorded from the test suite (`npm run
// api:examples`) into `api-examples.json` next to its declaration.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** `METHOD /path` (Fastify's path, `:id`) → status → the answer's body. */
export type ApiExamples = Record<string, Record<string, unknown>>;

/** The examples in `<dir>/api-examples.json`; none when the file does not exist yet. */
export function apiExamplesIn(dir: string): ApiExamples {
  const path = join(dir, 'api-examples.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as ApiExamples : {};
}
