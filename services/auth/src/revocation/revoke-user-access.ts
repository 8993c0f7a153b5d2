// When the users service says that a user's password changed, that the account was disabled or
// deleted, or that its role changed, nothing issued to the user before may work any more: their
// access tokens are refused on every service, and their sessions, grants, codes and refresh tokens
// here are ended so that none of them can mint another token.
import { TokenRevoked } from '../events.ts';
import type { Db } from '@paymesh/platform/db/open-database';
import { consume, type EventConsumer } from '@paymesh/platform/events/consume';
import { enqueue } from '@paymesh/platform/events/enqueue';
import type { EventEnvelope } from '@paymesh/platform/events/event';
import { UserDeleted, UserDisabled, UserPasswordChanged, UserUpdated } from '@paymesh/users/events';
import { maxAccessTokenTtlSec, type Runtime } from '@paymesh/platform/runtime';
import { revokeAccountModels } from '../oidc/create-adapter.ts';

/**
 * The users service's events that end a user's access, and whether the user may sign in again
 * right away (a new password, a new role), in which case the cut is the moment of the change, not
 * the moment auth hears of it.
 */
export function userAccessConsumers(runtime: Runtime): EventConsumer[] {
  return [
    consume(UserPasswordChanged, (tx, event) => endAccess(runtime, tx, event, { signInAgain: true })),
    // Nobody signs in to a disabled or deleted account: every token of the current second goes too.
    consume(UserDisabled, (tx, event) => endAccess(runtime, tx, event, { signInAgain: false })),
    consume(UserDeleted, (tx, event) => endAccess(runtime, tx, event, { signInAgain: false })),
    // Tokens carry the role: a demoted admin's would still say admin.
    consume(UserUpdated, async (tx, event) => {
      if (event.data.changes.includes('role')) await endAccess(runtime, tx, event, { signInAgain: true });
    }),
  ];
}

async function endAccess(runtime: Runtime, tx: Db, event: EventEnvelope<{ readonly user_id: number }>, rule: { signInAgain: boolean }): Promise<void> {
  const userId = event.data.user_id;
  const nowMs = Date.now();
  const nowSec = Math.floor(nowMs / 1000);
  // A sign-in with the new password, even before this event arrived, must keep working: the cut
  // is the change's own millisecond, compared with each token's `iat_ms` (tokens without one
  // are dated to the start of their second, so those of the change's second are refused).
  const changedMs = Date.parse(event.occurredAt);
  // Nobody signs in to a disabled or deleted account: the cut is the end of the second auth
  // handled the event in (a sign-in racing the change is refused too).
  const cutMs = rule.signInAgain && Number.isFinite(changedMs) ? Math.min(changedMs, nowMs) : (nowSec + 1) * 1000;
  const cutSec = Math.floor(cutMs / 1000);
  const revoked: TokenRevoked = { sub: String(userId), issuedBefore: Math.ceil(cutMs / 1000), issuedBeforeMs: cutMs, expiresAt: nowSec + maxAccessTokenTtlSec + 60 };
  await runtime.revocations.add(revoked, tx);
  await enqueue(tx, TokenRevoked, revoked);
  await revokeAccountModels(tx, String(userId), cutSec);
}
