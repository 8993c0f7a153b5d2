// examples/ are the README's walk-through written with @paymesh/sdk: each runs here as a reader
// would run it, a child process pointed at a platform by PAYMESH_URL (and ADMIN_PASSWORD), and
// must exit 0 having printed what it did. So CI runs them, and an SDK or API change that breaks
// one fails here.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminPassword, startTestPlatform, type TestPlatform } from '@paymesh/app/testing';

const examples = resolve(import.meta.dirname, '../examples');

/** A line each example prints once it has done what it shows. */
const expected: Record<string, RegExp> = {
  '01-register-and-log-in.ts': /a wrong password is refused: 401/,
  '02-pay-with-a-card.ts': /declined: card_declined \(insufficient_funds\)[\s\S]*captured 6000 of 8000 cents/,
  '03-three-d-secure.ts': /confirmed: succeeded/,
  '04-refund-as-admin.ts': /1000 of 4000 cents refunded/,
  '05-inbox-and-stream.ts': /unread now: 0/,
  '06-webhook-signature.ts': /verified payment\.succeeded evt_/,
};

function run(file: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    // From another folder, as a reader with a clone elsewhere would run it.
    const child = spawn(process.execPath, [join(examples, file)], { cwd: mkdtempSync(join(tmpdir(), 'paymesh-example-')), env: { ...process.env, ...env }, timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('examples/ run against a platform', () => {
  let platform: TestPlatform;

  before(async () => {
    // The webhook example's receiver listens on 127.0.0.1.
    platform = await startTestPlatform('pglite', { env: { WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' } });
  });
  after(async () => {
    await platform?.stop();
  });

  test('every example has its expectation here', () => {
    assert.deepEqual(readdirSync(examples).filter((f) => /^\d\d-.*\.ts$/.test(f)).sort(), Object.keys(expected).sort());
  });

  for (const [file, printed] of Object.entries(expected)) {
    test(`${file} runs to the end and exits 0`, async () => {
      const { code, stdout, stderr } = await run(file, { PAYMESH_URL: platform.gatewayUrl, ADMIN_PASSWORD: adminPassword });
      assert.equal(stderr, '', 'nothing on stderr');
      assert.equal(code, 0, stdout);
      assert.match(stdout, printed);
    });
  }

  test('an example exits non-zero when the platform cannot be reached', async () => {
    // A port just freed on 127.0.0.1: the connection is refused.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    server.close();
    await once(server, 'close');
    const { code, stderr } = await run('01-register-and-log-in.ts', { PAYMESH_URL: `http://127.0.0.1:${port}` });
    assert.notEqual(code, 0);
    assert.match(stderr, /ConnectionError: POST \/users: fetch failed \(connect ECONNREFUSED/);
  });
});
