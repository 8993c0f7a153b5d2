// The import floors hold: app/ -> services -> packages/platform, never up, never in a circle, no
// service reaching into another (but for its event contract), no feature importing another
// feature's route file. The rules, and why each holds, are in .dependency-cruiser.cjs.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const root = resolve(import.meta.dirname, '..');

test('imports only go down and never in a circle (.dependency-cruiser.cjs)', async () => {
  // Modules are named relative to baseDir (services/…), as the rules' paths are.
  const options = await extractDepcruiseOptions(resolve(root, '.dependency-cruiser.cjs'));
  const { output } = await cruise(['packages', 'services', 'app', 'test', 'bench', 'scripts', 'examples'], { ...options, baseDir: root, validate: true }, undefined, { tsConfig: extractTSConfig(resolve(root, 'tsconfig.json')) });
  const result = output as ICruiseResult;

  // The rules can only fire on imports that resolved: workspace packages must resolve to their files.
  const edges = result.modules.flatMap((m) => m.dependencies.map((d) => [m.source, d.resolved] as const));
  assert.ok(edges.some(([from, to]) => from.startsWith('services/') && to.startsWith('packages/platform/src/')), 'no service import of @paymesh/platform resolved to packages/platform/src');
  assert.ok(edges.some(([from, to]) => from.startsWith('app/src/') && to.startsWith('services/')), 'no app/ import of a service resolved to services/');

  const violations = result.summary.violations.map((v) =>
    `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle === undefined ? '' : ` (circle: ${v.cycle.map((c) => c.name).join(' -> ')})`}`);
  assert.deepEqual(violations, [], `import rules broken:\n${violations.join('\n')}`);
});
