// Signing keys rotate without refusing a single valid token: the new key is published before it
// signs, the old one stays published while its tokens live, and every service follows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { backends, eventually, startTestPlatform, type TestPlatform, type TestEnv } from '@paymesh/app/testing';
import { queryRows, sql } from '@paymesh/platform/db/open-database';
import { rotateSigningKey } from '../src/keys/load-signing-keys.ts';

// Short enough to watch within the test.
const env: TestEnv = {
  SIGNING_KEY_REFRESH_SECONDS: '1',
  SIGNING_KEY_PUBLISH_LEAD_SECONDS: '2',
  JWKS_COOLDOWN_SECONDS: '1',
};

for (const backend of backends()) {
  describe(`signing key rotation (${backend})`, () => {
    let platform: TestPlatform;
    let alice: { id: number; token: string; username: string; password: string };

    before(async () => {
      platform = await startTestPlatform(backend, { env });
      alice = await platform.api.signUp();
    });
    after(async () => {
      await platform?.stop();
    });

    const jwksKids = async () => ((await platform.api.call('GET', '/auth/jwks')).body.keys as { kid: string }[]).map((k) => k.kid);
    const acceptedEverywhere = async (token: string) => {
      for (const path of ['/payments', '/users/me', '/notifications/']) assert.equal((await platform.api.call('GET', path, { token })).status, 200, path);
    };

    test('a rotated key is published before it signs; old and new tokens are accepted by every service', async () => {
      const oldToken = alice.token;
      const oldKid = decodeProtectedHeader(oldToken).kid!;
      await acceptedEverywhere(oldToken);
      const db = platform.embedded!.services.auth.runtime.database.db;
      const newKid = await rotateSigningKey(db, 2);

      // Published within a refresh, while tokens are still signed with the old key.
      await eventually(async () => ((await jwksKids()).includes(newKid) ? true : undefined), { timeoutMs: 3_000 });
      assert.ok((await jwksKids()).includes(oldKid));

      // Then it signs.
      const newToken = await eventually(async () => {
        const token = await platform.api.login(alice.username, alice.password);
        return decodeProtectedHeader(token).kid === newKid ? token : undefined;
      }, { timeoutMs: 6_000, intervalMs: 250 });
      await acceptedEverywhere(newToken);
      await acceptedEverywhere(oldToken);
      assert.ok((await jwksKids()).includes(oldKid), 'the old key stays published while its tokens live');
    });

    test('a signing key older than SIGNING_KEY_ROTATION_DAYS is replaced on schedule, published before it signs', async () => {
      const db = platform.embedded!.services.auth.runtime.database.db;
      const before = await jwksKids();
      // Age every key past the rotation period (30 days by default).
      await db.execute(sql`update signing_keys set not_before = not_before - interval '31 days'`);
      const added = await eventually(async () => {
        const kids = await jwksKids();
        const fresh = kids.filter((kid) => !before.includes(kid));
        return fresh.length === 1 ? fresh[0] : undefined;
      }, { timeoutMs: 3_000 });
      const signedBy = await eventually(async () => {
        const kid = decodeProtectedHeader(await platform.api.login(alice.username, alice.password)).kid;
        return kid === added ? kid : undefined;
      }, { timeoutMs: 6_000, intervalMs: 250 });
      assert.equal(signedBy, added);
    });

    test('a replaced key is deleted once every token it signed has expired', async () => {
      const db = platform.embedded!.services.auth.runtime.database.db;
      const kids = await jwksKids();
      assert.ok(kids.length >= 2);
      // Pretend the current key has signed for longer than any token lives.
      await db.execute(sql`update signing_keys set not_before = not_before - interval '1 hour'`);
      await eventually(async () => ((await jwksKids()).length === 1 ? true : undefined), { timeoutMs: 4_000 });
      const [row] = await queryRows<{ n: string }>(db, sql`select count(*)::text as n from signing_keys`);
      assert.equal(row!.n, '1');
      await acceptedEverywhere(await platform.api.login(alice.username, alice.password));
    });
  });
}
