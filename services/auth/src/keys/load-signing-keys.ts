// The provider's signing keys live in this service's database so that every replica signs with
// the same key and a restart keeps tokens valid. The first start generates an ES256 key.
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { randomUUID } from 'node:crypto';
import { sql } from '@paymesh/platform/db/open-database';
import { queryRows, type Db } from '@paymesh/platform/db/open-database';

export async function loadSigningKeys(db: Db): Promise<JWK[]> {
  let rows = await queryRows<{ private_jwk: JWK }>(db, sql`select private_jwk from signing_keys where retired_at is null order by created_at desc`);
  if (rows.length === 0) {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
    // Replicas starting together: the first insert wins, the others read it back.
    await db.execute(sql`insert into signing_keys (kid, private_jwk)
      select ${jwk.kid}, ${JSON.stringify(jwk)}::jsonb where not exists (select 1 from signing_keys where retired_at is null)`);
    rows = await queryRows<{ private_jwk: JWK }>(db, sql`select private_jwk from signing_keys where retired_at is null order by created_at desc`);
  }
  return rows.map((r) => r.private_jwk);
}
