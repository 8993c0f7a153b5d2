// `npm run load`'s command line: a bad flag is refused before anything is sent, with the flag's
// name and the usage, and exit code 2; --help prints the usage. (The load itself runs against a
// live platform in dashboards-live.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const script = resolve(import.meta.dirname, '../../scripts/load.ts');
const load = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 20_000 });

test('every bad option is refused with its name, the usage and exit code 2, before any request', () => {
  const cases: [string[], RegExp][] = [
    [['--duration', 'abc'], /--duration must be an integer from 1 to 3600, not "abc"/],
    [['--duration', '0'], /--duration must be an integer from 1 to 3600/],
    [['--duration', '99999'], /--duration must be an integer from 1 to 3600/],
    [['--concurrency', '1.5'], /--concurrency must be an integer/],
    [['--users=-3'], /--users must be an integer from 1 to 1000/],
    [['--users', '2', '--streams', '3'], /--streams must be an integer from 0 to 2/],
    [['--max-error-rate', '2'], /--max-error-rate must be a number from 0 to 1/],
    [['--base-url', 'ftp://example.com'], /--base-url must be an http\(s\) URL/],
    [['--base-url', 'not a url'], /--base-url must be an http\(s\) URL/],
    [['--base-url', 'https://paymesh.example.com', '--local-receivers'], /--local-receivers needs the platform on this machine/],
    [['--no-such-flag'], /Unknown option '--no-such-flag'/],
    [['--duration'], /--duration/],
  ];
  for (const [args, message] of cases) {
    const run = load(...args);
    assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message, args.join(' '));
    assert.match(run.stderr, /npm run load -- \[options\]/, `${args.join(' ')}: the usage follows the error`);
  }
});

test('--help prints the usage and exits 0', () => {
  const run = load('--help');
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /--base-url URL/);
  assert.match(run.stdout, /--local-receivers/);
});

test('an unreachable platform is reported, not a stack trace', () => {
  // A port nobody listens on (the discard port on loopback is never served here).
  const run = load('--base-url', 'http://127.0.0.1:9', '--duration', '1', '--users', '1');
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /load: cannot reach http:\/\/127\.0\.0\.1:9/);
});
