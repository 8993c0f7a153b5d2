// One lane of `npm test` (scripts/test.ts starts it): the test files named on the command line run
// one after another in this one process (Node's `isolation: 'none'`), so the platform's modules
// are imported and compiled once per lane rather than once per file. Prints the spec reporter's
// output without its closing counts, and writes the counts, each file's time and the failures as
// JSON to the path in PAYMESH_TEST_LANE_RESULT for the runner to add up.
import { writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

export interface LaneResult {
  readonly counts: Record<'tests' | 'suites' | 'passed' | 'failed' | 'cancelled' | 'skipped' | 'todo', number>;
  /** Seconds each file's top-level tests took, by path from the repository's root. */
  readonly fileSeconds: Record<string, number>;
  /** CPU seconds (user + system) this lane's process spent while each file's top-level tests ran:
   * its own work and PGlite's, not PostgreSQL's, a browser's or a container's, which run apart. */
  readonly fileCpuSeconds: Record<string, number>;
  /** `file:line name` of every failed test. */
  readonly failures: string[];
}

const root = resolve(import.meta.dirname, '..');
const resultPath = process.env.PAYMESH_TEST_LANE_RESULT;
const files = process.argv.slice(2);
if (resultPath === undefined || files.length === 0) throw new Error('usage: PAYMESH_TEST_LANE_RESULT=out.json node scripts/test-lane.ts file.test.ts ...');

const result: LaneResult = { counts: { tests: 0, suites: 0, passed: 0, failed: 0, cancelled: 0, skipped: 0, todo: 0 }, fileSeconds: {}, fileCpuSeconds: {}, failures: [] };
/** The process's CPU time at the previous top-level test's end: the next one's starts there. */
let cpuMark = process.cpuUsage();
// The run's own summary lines ("ℹ tests 12" …): the runner prints one summary for all lanes instead.
const summaryLine = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) [\d.]+$/;

type TestEvent = { type: string; data: { nesting?: number; file?: string; name?: string; line?: number; message?: string; details?: { duration_ms?: number; type?: string }; counts?: LaneResult['counts'] } };

const tap = new Transform({
  objectMode: true,
  transform(event: TestEvent, _encoding, done) {
    const { type, data } = event;
    if (type === 'test:summary' && data.file === undefined && data.counts !== undefined) Object.assign(result.counts, data.counts);
    if ((type === 'test:pass' || type === 'test:fail') && data.nesting === 0 && data.file !== undefined) {
      const file = relative(root, data.file);
      result.fileSeconds[file] = (result.fileSeconds[file] ?? 0) + (data.details?.duration_ms ?? 0) / 1000;
      const cpu = process.cpuUsage(cpuMark);
      cpuMark = process.cpuUsage();
      result.fileCpuSeconds[file] = (result.fileCpuSeconds[file] ?? 0) + (cpu.user + cpu.system) / 1e6;
    }
    if (type === 'test:fail' && data.details?.type !== 'suite') result.failures.push(`${data.file === undefined ? '?' : relative(root, data.file)}:${data.line ?? 0} ${data.name ?? ''}`);
    if (type === 'test:diagnostic' && data.nesting === 0 && summaryLine.test(data.message ?? '')) return done();
    done(null, event);
  },
});

const stream = run({ files: files.map((file) => resolve(root, file)), isolation: 'none', concurrency: 1, cwd: root });
await new Promise<void>((done, fail) => {
  const output = stream.compose(tap).compose(spec);
  output.on('data', (chunk: string | Buffer) => process.stdout.write(chunk));
  output.on('end', done);
  output.on('error', fail);
});
writeFileSync(resultPath, JSON.stringify(result));
// A handle a test left open (a socket, a timer) must not keep the lane alive once every file is done.
process.exit(result.counts.failed > 0 || result.counts.cancelled > 0 ? 1 : 0);
