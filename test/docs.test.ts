import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminPassword, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';
import { configDocs } from '../scripts/config-docs.ts';
import { errorDocs } from '../scripts/error-docs.ts';

const root = resolve(import.meta.dirname, '..');

test('docs/errors.md lists exactly the error codes of the catalogues, the one the API document points to (run npm run docs:errors)', () => {
  assert.equal(readFileSync(resolve(root, 'docs/errors.md'), 'utf8'), errorDocs());
  assert.match(errorDocs(), /\| `last_admin` \| 400 \|/);
});

test('docs/configuration.md documents exactly the keys the code checks at boot (run npm run docs:config)', () => {
  assert.equal(readFileSync(resolve(root, 'docs/configuration.md'), 'utf8'), configDocs());
});

/** The README's shell walk-throughs: the blocks that start from the gateway's address. */
const walkThroughs = () => [...readFileSync(resolve(root, 'README.md'), 'utf8').matchAll(/```sh\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((block) => block.startsWith('BASE=${BASE:-http://localhost:8080}'));

describe('the README walk-throughs', () => {
  let platform: TestPlatform;
  const mail = mkdtempSync(join(tmpdir(), 'paymesh-readme-mail-'));

  before(async () => {
    platform = await startTestPlatform('pglite', { env: { EMAIL_OUTBOX_DIR: mail } });
  });
  after(async () => {
    await platform?.stop();
  });

  test('paste cleanly into bash, one after the other, from a folder outside the repository', async () => {
    const blocks = walkThroughs();
    assert.ok(blocks.length >= 4, 'the contract, payments, notifications, users and OAuth walk-throughs');
    // As a reader pastes them: one shell, in another folder, with the gateway and the admin's
    // password given as the README says; `set -u` makes a variable a block forgot an error.
    const script = ['set -u', ...blocks].join('\n');
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done, fail) => {
      const child = spawn('bash', ['-c', script], {
        cwd: mkdtempSync(join(tmpdir(), 'paymesh-readme-')),
        env: { ...process.env, BASE: platform.gatewayUrl, ADMIN_PASSWORD: adminPassword, PAYMESH_DIR: root, EMAIL_OUTBOX_DIR: mail },
        // Not a measure: a guard against a walk-through that waits forever (its `until` loops).
        timeout: 300_000,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', fail);
      child.on('close', (exit) => done({ code: exit, stdout: out, stderr: err }));
    });
    assert.equal(stderr, '', 'nothing on stderr: no missing file, unset variable or failed command');
    assert.equal(code, 0);
    for (const expected of [
      // (The live stream's output is not looked for: it runs for 3 seconds, whatever the machine's load.)
      '"message":"Notification marked as read."', // the contract, with the captured notification id
      '"message":"User deleted successfully"', // step 8, as the admin
      '"status":"succeeded"', // payments
      '"verified":true', // users: the emailed link, read with npm run mail
      '"reset":true',
      '"error":"invalid_target"', // OAuth: a partner's token for a resource it was not given
      '"scope":"payments:read"',
    ]) assert.ok(stdout.includes(expected), `the output shows ${expected}`);
  });
});
