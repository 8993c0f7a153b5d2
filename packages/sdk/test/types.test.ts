// The compile-time checks (types-check.ts: a createPayment without `amount`, an amount of the
// wrong type, an unknown path … must not compile) run here through tsc with the SDK's own
// tsconfig, which also holds src/ to what a browser has (no Node types). `npm run typecheck`
// checks the same file with the repository's tsconfig.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const sdk = resolve(import.meta.dirname, '..');
const tsc = resolve(sdk, '../../node_modules/typescript/bin/tsc');

function typeCheck(project: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

test('src/ and test/types-check.ts type-check with no Node types: every @ts-expect-error there is an error', () => {
  const { status, output } = typeCheck(resolve(sdk, 'tsconfig.json'));
  assert.equal(output, '');
  assert.equal(status, 0);
});

test('the check has teeth: an @ts-expect-error over a valid call, or a wrong call without one, fails it', () => {
  const folder = mkdtempSync(join(tmpdir(), 'paymesh-sdk-types-'));
  // Outside the repository: an ES module of its own that names the SDK's entry by its path.
  writeFileSync(join(folder, 'package.json'), '{ "type": "module" }');
  writeFileSync(join(folder, 'wrong.ts'), `import type { Paymesh } from ${JSON.stringify(resolve(sdk, 'src/index.ts'))};
declare const paymesh: Paymesh;
export async function wrong() {
  // @ts-expect-error (but this call is valid)
  await paymesh.post('/payments', { body: { amount: 1, user_id: 1 } });
  await paymesh.post('/payments', { body: { amount: true, user_id: 1 } });
}
`);
  writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify({ extends: resolve(sdk, 'tsconfig.json'), include: [join(folder, 'wrong.ts')] }));
  const { status, output } = typeCheck(join(folder, 'tsconfig.json'));
  assert.notEqual(status, 0);
  assert.equal(output.match(/error TS/g)?.length, 2, output);
  assert.match(output, /TS2578/, 'an unused @ts-expect-error');
  assert.match(output, /TS2322/, 'boolean is not assignable to the amount');
});
