// A fixture for test/test-runner.test.ts (not a test of the product): one passes, one fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';

test(`lane-b runs in process ${process.pid}`, () => {});
test('lane-b fails on purpose', () => {
  assert.equal(1, 2);
});
