// `npm test`'s runner (scripts/test.ts, scripts/test-lane.ts, ADR 23) on fixture files: the
// services' files share one process per lane, the counts of every lane are added up, a failing
// test is listed with its file and line and fails the run, and a lane held open by a leftover
// handle is stopped after its time limit instead of holding the run forever.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const root = resolve(import.meta.dirname, '..');
const fixtures = 'scripts/test-fixtures';

function runTests(files: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, ['scripts/test.ts', ...files.map((f) => `${fixtures}/${f}`)], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, output: run.stdout + run.stderr };
}

test('files of the services share a lane\'s process; the summary adds up every lane; a failure is listed with its file and line and fails the run', () => {
  const { status, output } = runTests(['lane-a.fixture.ts', 'lane-b.fixture.ts']);
  assert.equal(status, 1, output);
  const pids = [...output.matchAll(/lane-[ab] runs in process (\d+)/g)].map((m) => m[1]);
  assert.equal(pids.length, 2, output);
  assert.equal(pids[0], pids[1], 'both files ran in one process');
  assert.match(output, /ℹ tests 4\n/);
  assert.match(output, /ℹ pass 2\n/);
  assert.match(output, /ℹ fail 1\n/);
  assert.match(output, /ℹ skipped 1\n/);
  assert.match(output, /✖ failing tests:\n {2}scripts\/test-fixtures\/lane-b\.fixture\.ts:6 lane-b fails on purpose/);
});

test('a lane still running after its limit is stopped, and its files fail naming the likely cause', () => {
  const started = Date.now();
  const { status, output } = runTests(['hanging.fixture.ts'], { TEST_LANE_LIMIT_SECONDS: '3' });
  assert.equal(status, 1, output);
  assert.match(output, /lane of scripts\/test-fixtures\/hanging\.fixture\.ts was stopped after 3 s: a test hangs, or a file left a handle open/);
  assert.match(output, /scripts\/test-fixtures\/hanging\.fixture\.ts \(its lane was stopped after 3 s\)/);
  assert.ok(Date.now() - started < 60_000, 'the run ended soon after the limit');
});
