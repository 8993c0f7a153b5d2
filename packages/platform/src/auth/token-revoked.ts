// Auth produces this event, and every service's revocation list (revocation-list.ts) follows it, so
// its contract lives here, below both: the platform may not import a service. Auth's events.ts
// re-exports it beside its own contracts.
import { Type } from 'typebox';
import { defineEvent, type EventData } from '../events/define-event.ts';

/**
 * One token by id, every token of a grant (a logout, a revoked refresh token), or all of a
 * subject's older tokens (a deleted user).
 */
export const TokenRevoked = defineEvent({
  subject: 'auth.token.revoked',
  version: 1,
  producer: 'auth',
  description: 'Access tokens auth revoked before their expiry: every service refuses them from now on.',
  schema: Type.Object({
    jti: Type.Optional(Type.String()),
    grantId: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String()),
    /**
     * Epoch seconds; with `sub`, tokens issued before this are refused. Kept for services that do
     * not read `issuedBeforeMs` yet (rounded up: they refuse the cut's whole second).
     */
    issuedBefore: Type.Optional(Type.Number()),
    /** Epoch ms; with `sub`, the exact cut (a token's time is its `iat_ms`, or the start of its `iat` second). */
    issuedBeforeMs: Type.Optional(Type.Number()),
    /** Epoch seconds after which the entry is useless (every token it can match has expired). */
    expiresAt: Type.Number(),
  }),
});
export type TokenRevoked = EventData<typeof TokenRevoked>;
