// A deleted user's live tokens are refused everywhere: every token of theirs issued before now.
import { tokenRevokedSubject, type TokenRevoked } from '@paymesh/platform/auth/revocation-list';
import { consumeEvents } from '@paymesh/platform/events/consume-events';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import type { Subscription } from '@paymesh/platform/events/event';
import { maxAccessTokenTtlSec, type Runtime } from '@paymesh/platform/runtime';

export function revokeDeletedUsers(runtime: Runtime): Promise<Subscription> {
  return consumeEvents<{ user_id: number }>({
    db: runtime.database.db,
    transport: runtime.transport,
    logger: runtime.logger,
    consumer: 'auth',
    subject: 'user.deleted',
    afterCommit: () => runtime.relay.kick(),
    async handle(tx, event) {
      const nowSec = Math.floor(Date.now() / 1000);
      const revoked: TokenRevoked = { sub: String(event.data.user_id), issuedBefore: nowSec + 1, expiresAt: nowSec + maxAccessTokenTtlSec + 60 };
      await runtime.revocations.add(revoked, tx);
      await enqueueEvent(tx, tokenRevokedSubject, revoked);
    },
  });
}
