// When the users service says that a user's password changed, that the account was disabled or
// deleted, or that its role changed, nothing issued to the user before may work any more: their
// access tokens are refused on every service, and their sessions, grants, codes and refresh tokens
// here are ended so that none of them can mint another token.
import { tokenRevokedSubject, type TokenRevoked } from '@paymesh/platform/auth/revocation-list';
import { enqueueEvent } from '@paymesh/platform/events/enqueue-event';
import { maxAccessTokenTtlSec, type Runtime } from '@paymesh/platform/runtime';
import type { Consumer } from '@paymesh/platform/service-declaration';
import { revokeAccountModels } from '../oidc/create-adapter.ts';

interface UserEvent {
  readonly user_id: number;
  /** `user.updated` only: the fields that changed. */
  readonly changes?: readonly string[];
}

/**
 * The users service's events that end a user's access: whether this one does, and whether the user
 * may sign in again right away (a new password, a new role), in which case the cut is the moment
 * of the change, not the moment auth hears of it.
 */
const accessEndingEvents: Record<string, { ends: (data: UserEvent) => boolean; signInAgain: boolean }> = {
  'user.password_changed': { ends: () => true, signInAgain: true },
  // Nobody signs in to a disabled or deleted account: every token of the current second goes too.
  'user.disabled': { ends: () => true, signInAgain: false },
  'user.deleted': { ends: () => true, signInAgain: false },
  // Tokens carry the role: a demoted admin's would still say admin.
  'user.updated': { ends: (data) => Array.isArray(data.changes) && data.changes.includes('role'), signInAgain: true },
};

export const accessEndingConsumers: Consumer<{ readonly runtime: Runtime }, UserEvent>[] = Object.entries(accessEndingEvents).map(([subject, rule]) => ({
  subject,
  async handle(tx, event, { runtime }) {
    const userId = event.data.user_id;
    if (!Number.isSafeInteger(userId) || userId <= 0) {
      // Redelivering cannot fix it: logged loudly for whoever publishes it, and skipped.
      runtime.logger.error({ eventId: event.id, subject, userId }, 'user event without a valid user_id: nothing revoked');
      return;
    }
    if (!rule.ends(event.data)) return;
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
    await enqueueEvent(tx, tokenRevokedSubject, revoked);
    await revokeAccountModels(tx, String(userId), cutSec);
  },
}));
