// Development secrets are stored so that processes started separately agree on them; where they
// cannot be stored (a container's read-only root file system) the operator is told to set the
// variable instead of being shown a bare file-system error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig, str } from '../src/config.ts';
import { devSecret } from '../src/dev-secrets.ts';

const folder = mkdtempSync(join(tmpdir(), 'paymesh-dev-secrets-'));
after(() => rmSync(folder, { recursive: true, force: true }));

test('a development secret is generated once and then read back', () => {
  const file = join(folder, 'var', 'dev-secrets.json');
  const first = devSecret('payments-service', file);
  assert.equal(devSecret('payments-service', file), first);
  assert.equal((JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>)['payments-service'], first);
});

test('a development secret that cannot be stored makes the boot fail naming the variable to set', () => {
  // A parent that is a file cannot hold a folder, as a read-only root file system cannot (root may
  // write anywhere else, so a read-only folder would not do in CI).
  const blocker = join(folder, 'not-a-folder');
  writeFileSync(blocker, '');
  const spec = { secret: str('SERVICE_CLIENT_SECRET', 'OAuth client secret.', { default: () => devSecret('users-service', join(blocker, 'var', 'dev-secrets.json')) }) };
  assert.throws(() => loadConfig(spec, {}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /SERVICE_CLIENT_SECRET is unset, and no development secret can be stored in .*not-a-folder\/var\/dev-secrets\.json \(ENOTDIR\): set it/);
    return true;
  });
});

test('processes starting together on a fresh checkout agree on every development secret, and none reads a half-written file', async () => {
  const file = join(folder, 'together', 'dev-secrets.json');
  const names = ['auth-service', 'users-service', 'payments-service', 'notifications-service'];
  // Each process asks for every secret, in its own order, and prints what it got.
  const script = `
    import { devSecret } from ${JSON.stringify(new URL('../src/dev-secrets.ts', import.meta.url).href)};
    const names = ${JSON.stringify(names)};
    const shift = Number(process.argv.at(-1));
    const got = {};
    for (let i = 0; i < names.length; i++) { const name = names[(i + shift) % names.length]; got[name] = devSecret(name, ${JSON.stringify(file)}); }
    console.log(JSON.stringify(got));`;
  const runs = await Promise.all(Array.from({ length: 8 }, (_, i) => new Promise<Record<string, string>>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script, String(i)], (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as Record<string, string>)));
  })));
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  assert.deepEqual(Object.keys(stored).sort(), [...names].sort());
  for (const run of runs) assert.deepEqual(run, stored);
});

test('a development secrets file that is not valid JSON makes the boot fail saying to delete it, not with a parser message', () => {
  const file = join(folder, 'broken', 'dev-secrets.json');
  mkdirSync(join(folder, 'broken'));
  writeFileSync(file, '');
  const spec = { secret: str('SERVICE_CLIENT_SECRET', 'OAuth client secret.', { default: () => devSecret('users-service', file) }) };
  assert.throws(() => loadConfig(spec, {}), /SERVICE_CLIENT_SECRET cannot be read from .*broken\/dev-secrets\.json, which is not valid JSON: delete the file/);
});
