// The kit's one way to run periodic work (every.ts): one pass at a time, passes skipped while the
// database is away, a failed pass tried again on the next tick, and a stop that waits for the pass
// under way and lets none start after it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { every } from '../src/every.ts';
import { createLogger } from '../src/logger.ts';

const logged: string[] = [];
const logger = createLogger('test', 'warn', { write: (line: string) => void logged.push(line) });

test('a pass slower than the interval is never overlapped by the next tick', async () => {
  let running = 0;
  let most = 0;
  let passes = 0;
  const job = every({ name: 'slow', everyMs: 5, logger, run: async () => {
    running++;
    most = Math.max(most, running);
    await sleep(40);
    running--;
    passes++;
  } });
  await sleep(200);
  await job.stop();
  assert.equal(most, 1, 'two passes ran at once');
  assert.ok(passes >= 2, `the job kept running (${passes} passes)`);
});

test('stop waits for the pass under way, and no pass starts after it', async () => {
  let finished = 0;
  let started = 0;
  const job = every({ name: 'stopped', everyMs: 5, atStart: true, logger, run: async () => {
    started++;
    await sleep(50);
    finished++;
  } });
  await sleep(10);
  await job.stop();
  assert.equal(finished, started, 'stop returned before the pass under way finished');
  const after = started;
  job.kick();
  await sleep(50);
  assert.equal(started, after, 'a pass started after stop');
});

test('ticks are skipped while the database is away and resume once it is back', async () => {
  let available = false;
  let passes = 0;
  const job = every({ name: 'needs the database', everyMs: 5, logger, available: () => available, run: async () => void passes++ });
  await sleep(60);
  assert.equal(passes, 0, 'a pass ran while the database was away');
  available = true;
  await sleep(60);
  await job.stop();
  assert.ok(passes > 0, 'no pass once the database was back');
});

test('a failed pass is logged and tried again on the next tick', async () => {
  let attempts = 0;
  const job = every({ name: 'flaky job', everyMs: 5, logger, run: async () => {
    attempts++;
    if (attempts === 1) throw new Error('first pass fails');
  } });
  await sleep(60);
  await job.stop();
  assert.ok(attempts >= 2, 'not tried again after a failure');
  assert.ok(logged.some((line) => line.includes('flaky job failed')), 'the failure was not logged');
});

test('an interval that is not positive is a programmer error', () => {
  assert.throws(() => every({ name: 'off', everyMs: 0, logger, run: async () => {} }), /everyMs must be positive/);
});
