// The signing keys as Prometheus sees them, read from their table at scrape time (every replica
// reports the same truth): a rotation shows as the count rising (the next key published) and,
// once that key signs, the age dropping; an age past the rotation period says rotation stopped.
import type { Registry } from 'prom-client';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { registerScrapedGauges } from '@paymesh/platform/scraped-gauges';

export function registerSigningKeyMetrics(registry: Registry, db: () => Db | undefined): void {
  registerScrapedGauges(registry, {
    auth_signing_keys: 'Signing keys published in the JWKS: the one signing, the next one before it signs, replaced ones until their tokens expire.',
    auth_signing_key_age_seconds: 'Time since the key that signs now started signing.',
  }, async () => {
    const handle = db();
    if (handle === undefined) return undefined;
    // The key that signs is the newest whose not_before has come (load-signing-keys.ts).
    const [row] = await queryRows<{ n: number; age: number | null }>(handle, sql`
      select count(*)::int as n, extract(epoch from now() - max(not_before) filter (where not_before <= now()))::float8 as age
      from signing_keys`);
    return { auth_signing_keys: row?.n ?? 0, auth_signing_key_age_seconds: Math.max(0, row?.age ?? 0) };
  });
}
