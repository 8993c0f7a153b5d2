// The provider's signing keys live in this service's database so that every replica signs with
// the same key and a restart keeps tokens valid. A new key is published first and signs from its
// `not_before` on (by then every replica and every service's JWKS cache has it); the key it
// replaces stays published until every token it signed has expired, then it is deleted.
// Rotation happens on a schedule (the signing key's age) or on demand (`npm run keys:rotate`).
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';
import { maxAccessTokenTtlSec } from '@paymesh/platform/runtime';

const keyLock = 4_108_730_517; // arbitrary, constant: serialises key generation among replicas

export interface KeyPolicy {
  /** How often each replica reloads its keys: a lagging replica still signs with the old key. */
  readonly refreshSec: number;
  /** Age (from when it started signing) at which the signing key is replaced. */
  readonly rotateAfterSec: number;
  /** How long a new key is published before it signs. */
  readonly publishLeadSec: number;
}

/**
 * The keys to publish, the one that signs now first. Creates the first key, rotates by schedule,
 * and forgets replaced keys whose tokens have all expired. Replicas take turns.
 */
export async function loadSigningKeys(db: Db, policy: KeyPolicy): Promise<JWK[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${keyLock})`);
    const [newest] = await queryRows<{ age_sec: string }>(tx, sql`
      select extract(epoch from now() - not_before)::bigint::text as age_sec from signing_keys order by not_before desc limit 1`);
    // The very first key signs at once (no token exists yet); later ones are published first.
    if (newest === undefined) await insertSigningKey(tx, 0);
    else if (Number(newest.age_sec) >= policy.rotateAfterSec) await insertSigningKey(tx, policy.publishLeadSec);
    // A key is replaced once a newer one signs; it goes when its last token has expired: the
    // slowest replica may sign with it for one more refresh, and that token lives its full life.
    const keepSec = policy.refreshSec + maxAccessTokenTtlSec + 5 * 60;
    await tx.execute(sql`delete from signing_keys k where exists (
      select 1 from signing_keys n where n.not_before > k.not_before and n.not_before < now() - make_interval(secs => ${keepSec}))`);
    const rows = await queryRows<{ private_jwk: JWK }>(tx, sql`
      select private_jwk from signing_keys order by not_before <= now() desc, not_before desc`);
    return rows.map((r) => r.private_jwk);
  });
}

/** Adds a key that starts signing in `publishLeadSec` (`npm run keys:rotate`). Returns its kid. */
export async function rotateSigningKey(db: Db, publishLeadSec: number): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${keyLock})`);
    return insertSigningKey(tx, publishLeadSec);
  });
}

async function insertSigningKey(tx: Db, publishLeadSec: number): Promise<string> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
  await tx.execute(sql`insert into signing_keys (kid, private_jwk, not_before)
    values (${jwk.kid}, ${JSON.stringify(jwk)}::jsonb, now() + make_interval(secs => ${publishLeadSec}))`);
  return jwk.kid;
}
