// A fixture for test/test-runner.test.ts (not a test of the product): passes, skips, names its process.
import { test } from 'node:test';

test(`lane-a runs in process ${process.pid}`, () => {});
test('lane-a skips one', { skip: 'on purpose' }, () => {});
