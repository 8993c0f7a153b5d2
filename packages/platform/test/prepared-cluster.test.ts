// A first start of embedded mode makes its PGlite cluster from the prepared initdb output shipped
// in the repository (prepared-cluster.ts, new-cluster.ts) instead of running initdb.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { newCluster } from '@paymesh/platform/db/new-cluster';
import { createPglite } from '@paymesh/platform/db/open-database';
import { preparedClusterFile } from '@paymesh/platform/db/prepared-cluster';

const root = mkdtempSync(join(tmpdir(), 'paymesh-cluster-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a prepared cluster ships for the installed PGlite version and the platform\'s settings (else: npm run pglite:prepare)', () => {
  assert.ok(existsSync(preparedClusterFile()), `${preparedClusterFile()} is missing: run npm run pglite:prepare and commit the file`);
});

test('a cluster made from the prepared one opens, with the template databases initdb makes', async () => {
  const dir = join(root, 'made');
  await newCluster(dir);
  assert.equal(readFileSync(join(dir, 'PG_VERSION'), 'utf8').trim(), '18');
  const client = await createPglite(dir, undefined);
  try {
    const names = (await client.query<{ datname: string }>('select datname from pg_database order by datname')).rows.map((row) => row.datname);
    assert.deepEqual(names, ['postgres', 'template0', 'template1']);
    await client.exec('create table kept (id int); insert into kept values (1)');
  } finally {
    await client.close();
  }
  const again = await createPglite(dir, undefined);
  try {
    assert.deepEqual((await again.query('select id from kept')).rows, [{ id: 1 }]);
  } finally {
    await again.close();
  }
});

test('a folder with something else in it is never replaced by a new cluster', async () => {
  const dir = join(root, 'occupied');
  mkdirSync(dir);
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  await assert.rejects(newCluster(dir), { code: 'ENOTEMPTY' });
  assert.equal(readFileSync(join(dir, 'notes.txt'), 'utf8'), 'mine');
  assert.ok(!existsSync(join(dir, 'PG_VERSION')));
});

test('what a start killed while making a cluster left behind is cleared by the next one', async () => {
  const dir = join(root, 'interrupted');
  mkdirSync(`${dir}.new-0badf00d/base`, { recursive: true });
  await newCluster(dir);
  assert.ok(existsSync(join(dir, 'PG_VERSION')));
  assert.ok(!existsSync(`${dir}.new-0badf00d`));
});
