// The provider's signing keys live in this service's database so that every replica signs with
// the same key and a restart keeps tokens valid. The first start generates an ES256 key.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';

const keyLock = 4_108_730_517; // arbitrary, constant: serialises first-start key generation

export async function loadSigningKeys(db: Db): Promise<JWK[]> {
  // Replicas starting together take turns: the first generates the key, the others read it.
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${keyLock})`);
    const current = () => queryRows<{ private_jwk: JWK }>(tx, sql`select private_jwk from signing_keys where retired_at is null order by created_at desc`);
    let rows = await current();
    if (rows.length === 0) {
      const { privateKey } = await generateKeyPair('ES256', { extractable: true });
      const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
      await tx.execute(sql`insert into signing_keys (kid, private_jwk) values (${jwk.kid}, ${JSON.stringify(jwk)}::jsonb)`);
      rows = await current();
    }
    return rows.map((r) => r.private_jwk);
  });
}
