// When a grant ends (logout, a revoked or reused refresh token), the access tokens issued under it
// must die too. They are JWTs nobody stores, so their grant id (`gid`) is revoked on every
// service: recorded here, announced by the outbox.
import { TokenRevoked } from '../events.ts';
import { enqueue } from '@paymesh/platform/events/enqueue';
import { maxAccessTokenTtlSec, type Runtime } from '@paymesh/platform/runtime';

export async function revokeGrantTokens(runtime: Runtime, grantId: string): Promise<void> {
  const revoked: TokenRevoked = { grantId, expiresAt: Math.floor(Date.now() / 1000) + maxAccessTokenTtlSec + 60 };
  await runtime.database.db.transaction(async (tx) => {
    await runtime.revocations.add(revoked, tx);
    await enqueue(tx, TokenRevoked, revoked);
  });
}
