// `npm run api:examples`: the API document's examples, taken from real answers. Runs the services'
// and the SDK's tests and the examples/ walk-through (or the files given) with API_EXAMPLES_DIR set, so that every test
// platform records the first valid answer of each documented route and status
// (packages/platform/src/openapi/check-responses.ts), then writes them, tokens and secrets
// replaced by obviously fake ones, to each service's src/api-examples.json, which its declaration
// gives the document (`api.examples`). Then run `npm run api:documents`. test/openapi.test.ts
// checks that every example still matches its schema and that every operation has one.
//   npm run api:examples                          the services' and the SDK's tests, test/openapi.test.ts and the examples
//   npm run api:examples -- <test files…>         those files only (examples they do not reach are kept)
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { apiExamplesPath, redactExample, type ApiExamples } from '@paymesh/app/testing/api-examples';

const root = resolve(import.meta.dirname, '..');
const given = process.argv.slice(2);
const files = given.length > 0 ? given : [...globSync('{services/*,packages/sdk}/test/**/*.test.ts', { cwd: root }).sort(), 'test/openapi.test.ts', 'test/sdk-examples.test.ts'];
const dir = mkdtempSync(join(tmpdir(), 'paymesh-api-examples-'));
try {
  // The tests' outcome does not matter here (a failing test's answers were still checked valid).
  spawnSync(process.execPath, [resolve(root, 'scripts/test.ts'), ...files], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, API_EXAMPLES_DIR: dir } });
  for (const service of ['auth', 'users', 'payments', 'notifications']) {
    const recorded = join(dir, `${service}.jsonl`);
    if (!existsSync(recorded)) continue;
    const path = apiExamplesPath(service);
    const examples: ApiExamples = existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as ApiExamples : {};
    // Each test platform recorded its first answer of each route and status; of those, the first
    // that reads well in a document (2 KB of JSON or less) wins, else the shortest. This run's
    // answers replace the file's older ones.
    const candidates = new Map<string, { route: string; status: string; body: unknown; size: number }[]>();
    for (const line of readFileSync(recorded, 'utf8').split('\n').filter((l) => l !== '')) {
      const { route, status, body } = JSON.parse(line) as { route: string; status: string; body: unknown };
      const key = `${route} ${status}`;
      candidates.set(key, [...(candidates.get(key) ?? []), { route, status, body, size: JSON.stringify(body).length }]);
    }
    for (const answers of candidates.values()) {
      const chosen = answers.find((a) => a.size <= 2048) ?? answers.reduce((a, b) => (b.size < a.size ? b : a));
      examples[chosen.route] = { ...examples[chosen.route], [chosen.status]: redactExample(chosen.body) };
    }
    const sorted = Object.fromEntries(Object.entries(examples).sort(([a], [b]) => a.localeCompare(b)).map(([route, byStatus]) => [route, Object.fromEntries(Object.entries(byStatus).sort(([a], [b]) => a.localeCompare(b)))]));
    writeFileSync(path, JSON.stringify(sorted, null, 2) + '\n');
    console.log(`wrote ${relative(process.cwd(), path)} (${Object.keys(sorted).length} routes)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
