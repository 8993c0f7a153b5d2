// The dashboard's weight and build cost (issue 17: the first page's JavaScript ≤ 150 KB gzipped):
// builds services/gateway/web from scratch (as a fresh clone's first `npm start` does) and again
// when nothing changed (every later start), and prints the assets' sizes raw, gzipped and with
// Brotli beside the budget, as a Markdown table for docs/benchmarks.md.
import { rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { buildWebApp, webAppRoot } from '@paymesh/gateway/build-web-app';

const budgetGzipped = 150 * 1024;
rmSync(join(webAppRoot, 'dist'), { recursive: true, force: true });
const cold = await buildWebApp();
const warm = await buildWebApp();
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
console.log(`# the dashboard's bundle on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${new Date().toISOString().slice(0, 10)}`);
console.log('| asset | raw | gzipped | brotli | budget (gzipped) |');
console.log('|---|---|---|---|---|');
for (const [name, body] of cold.files) {
  console.log(`| ${name} | ${kb(body.length)} | ${kb(gzipSync(body).length)} | ${kb(brotliCompressSync(body).length)} | ${name.endsWith('.js') ? `${kb(budgetGzipped)} (${Math.round((100 * gzipSync(body).length) / budgetGzipped)} % used)` : '—'} |`);
}
console.log(`\nbuild from scratch: ${Math.round(cold.buildMs)} ms; a start that finds its build: ${warm.buildMs.toFixed(1)} ms (hash of the sources only)`);
if (warm.built) throw new Error('the second build should have found the first');
