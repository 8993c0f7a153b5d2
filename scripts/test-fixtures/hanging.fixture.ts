// A fixture for test/test-runner.test.ts (not a test of the product): passes, but leaves a server
// open, so its process would never end.
import { createServer } from 'node:net';
import { test } from 'node:test';

test('leaves a server listening', () => {
  createServer().listen(0, '127.0.0.1');
});
