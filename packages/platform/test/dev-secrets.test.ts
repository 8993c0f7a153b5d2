// Development secrets are stored so that processes started separately agree on them; where they
// cannot be stored (a container's read-only root file system) the operator is told to set the
// variable instead of being shown a bare file-system error.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
