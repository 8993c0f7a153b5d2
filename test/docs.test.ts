import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { configDocs } from '../scripts/config-docs.ts';

test('docs/configuration.md documents exactly the keys the code checks at boot (run npm run docs:config)', () => {
  assert.equal(readFileSync(resolve(import.meta.dirname, '../docs/configuration.md'), 'utf8'), configDocs());
});
